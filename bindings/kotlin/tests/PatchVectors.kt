// The language-neutral update vectors of tests/vectors/patches.json (see
// tests/vectors/README.md), run through patchX, mergeX and replaceX with
// their JSON text, each case in a fresh store. The stored document is read
// back with listJson, so a case's `result` is compared as JSON.
package rosterdb.tests

import rosterdb.EntityKind
import rosterdb.ListQuery
import rosterdb.RosterException
import rosterdb.RosterStore

/** Fewer cases than this means the file was emptied or truncated by accident. */
private const val MIN_PATCH_CASES = 100

/** The keys a case may have; any other is a mistake in the file or a key this runner lacks. */
private val CASE_KEYS = setOf(
    "name", "entity", "before", "id", "doc", "ops", "merge", "replace", "expectedVersion",
    "result", "error", "opIndex", "errorFields", "field",
)

/** Fields no update changes. */
private val KEPT = listOf("id", "createdAt", "clientId")

/** Runs every case of patches.json; throws listing every failure. */
fun runPatchVectors() {
    val vectors = readVectors("patches.json", MIN_PATCH_CASES)
    runEachCase("patches.json", vectors, ::runPatchCase)
    println("     ran ${(vectors["cases"] as List<*>).size} patch vectors")
}

/** Runs one case in a fresh store; returns what went wrong, or null. */
private fun runPatchCase(case: Map<*, *>): String? {
    val unknown = case.keys.filter { it !in CASE_KEYS }
    require(unknown.isEmpty()) { "unknown case keys $unknown" }
    val entity = case["entity"] as String
    val update = listOf("ops", "merge", "replace").filter { case.containsKey(it) }.singleOrNull()
        ?: return "a case needs exactly one of ops, merge, replace"
    val expectedVersion = (case["expectedVersion"] as JsonNumber?)?.text?.toULong()
    memoryStore().use { store ->
        for ((i, before) in (case["before"] as List<*>? ?: emptyList<Any>()).withIndex()) {
            val record = before as Map<*, *>
            runCatching { create(store, record["entity"] as String, record["doc"]) }
                .onFailure { return "before[$i] cannot be created: $it" }
        }
        val created = create(store, entity, case["doc"])
        val ownId = (created["id"] as JsonNumber).text.toULong()
        val id = (case["id"] as JsonNumber?)?.text?.toULong() ?: ownId
        val outcome = runCatching { apply(store, entity, update, id, Json.write(case[update]), expectedVersion) }
        val error = outcome.exceptionOrNull()?.let { it as? RosterException ?: throw it }
        val stored = get(store, entity, ownId)
        val storedDoc = document(store, entity, ownId)
        val result = case["result"] as Map<*, *>?
        if (result == null) {
            return checkError(case, entity, error, created)
                ?: if (storedDoc != created) "$error, but ${Json.write(created)} became ${Json.write(storedDoc)}" else null
        }
        if (error != null) return "expected success, got $error"
        val problems = mutableListOf<String>()
        if (outcome.getOrNull() != stored) problems += "returned ${outcome.getOrNull()}, but stored $stored"
        // Version 1 means no write at all: updatedAt is unchanged too.
        if (result["version"] == JsonNumber("1") && storedDoc != created) {
            problems += "expected no write, but ${Json.write(created)} became ${Json.write(storedDoc)}"
        }
        for (key in KEPT) if (storedDoc[key] != created[key]) problems += "$key changed"
        for ((key, value) in result) {
            if (storedDoc[key] != value) {
                val actual = if (storedDoc.containsKey(key)) Json.write(storedDoc[key]) else "absent"
                problems += "$key should be ${Json.write(value)}, is $actual"
            }
        }
        return if (problems.isEmpty()) null else problems.joinToString("; ")
    }
}

/** What is wrong with [error] for a case that expects one, or null. */
private fun checkError(case: Map<*, *>, entity: String, error: RosterException?, created: Map<*, *>): String? {
    val expected = case["error"] as String? ?: return "a case needs result or error"
    val matched = when (expected) {
        "InvalidPatch" -> error is RosterException.InvalidPatch &&
            error.opIndex == (case["opIndex"] as JsonNumber).text.toULong()
        "Validation" -> error is RosterException.Validation &&
            error.errors.map { it.field }.toSet() == (case["errorFields"] as List<*>).map { it as String }.toSet()
        "Conflict" -> error is RosterException.Conflict && error.field == case["field"]
        "VersionConflict" -> error is RosterException.VersionConflict &&
            error.expected == (case["expectedVersion"] as JsonNumber).text.toULong() &&
            error.actual == (created["version"] as JsonNumber).text.toULong()
        "NotFound" -> error is RosterException.NotFound && error.entity == entityKind(entity)
        else -> return "unknown error kind $expected"
    }
    val details = listOf("opIndex", "errorFields", "field").filter { case.containsKey(it) }
        .joinToString("") { ", $it ${Json.write(case[it])}" }
    return if (matched) null else "expected $expected$details, got ${error ?: "success"}"
}

private fun entityKind(entity: String) = when (entity) {
    "user" -> EntityKind.USER
    "role" -> EntityKind.ROLE
    "client" -> EntityKind.CLIENT
    else -> throw IllegalArgumentException("unknown entity $entity")
}

/** Creates a record from its JSON document; returns the created document. */
private fun create(store: RosterStore, entity: String, doc: Any?): Map<*, *> {
    val text = Json.write(doc)
    return when (entity) {
        "user" -> Json.parse(store.createUserJson(text))
        "role" -> Json.parse(store.createRoleJson(text))
        "client" -> (Json.parse(store.createClientJson(text)) as Map<*, *>)["client"]
        else -> throw IllegalArgumentException("unknown entity $entity")
    } as Map<*, *>
}

/** Applies the case's update, given as JSON text, through the typed API. */
private fun apply(store: RosterStore, entity: String, update: String, id: ULong, text: String, version: ULong?): Any =
    when ("$entity $update") {
        "user ops" -> store.patchUser(id, text, version)
        "user merge" -> store.mergeUser(id, text, version)
        "user replace" -> store.replaceUser(id, text, version)
        "role ops" -> store.patchRole(id, text, version)
        "role merge" -> store.mergeRole(id, text, version)
        "role replace" -> store.replaceRole(id, text, version)
        "client ops" -> store.patchClient(id, text, version)
        "client merge" -> store.mergeClient(id, text, version)
        "client replace" -> store.replaceClient(id, text, version)
        else -> throw IllegalArgumentException("unknown entity $entity")
    }

/** The stored record, typed. */
private fun get(store: RosterStore, entity: String, id: ULong): Any = when (entity) {
    "user" -> store.getUser(id)
    "role" -> store.getRole(id)
    else -> store.getClient(id)
}

/** The stored record's JSON document, read through listJson. */
private fun document(store: RosterStore, entity: String, id: ULong): Map<*, *> {
    val page = Json.parse(store.listJson(entityKind(entity), ListQuery(filter = "id = $id"))) as Map<*, *>
    return (page["items"] as List<*>).single() as Map<*, *>
}
