// The language-neutral vectors of tests/vectors/ (see tests/vectors/README.md):
// validation.json here, through the JSON entry points, queries.json
// (QueryVectors.kt) and patches.json (PatchVectors.kt).
package rosterdb.tests

import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertTrue
import rosterdb.RosterException

/** Fewer cases than this means the file was emptied or truncated by accident. */
private const val MIN_CASES = 80

/** The vector folder: `ROSTERDB_VECTORS`, or `tests/vectors` of the working directory. */
fun vectorDir(): Path =
    Path.of(System.getenv("ROSTERDB_VECTORS") ?: "tests/vectors")

/** A vector file, read: its whole object, after checking its description and that it has more than [minCases] cases. */
fun readVectors(file: String, minCases: Int): Map<*, *> {
    val vectors = Json.parse(Files.readString(vectorDir().resolve(file))) as Map<*, *>
    assertTrue((vectors["description"] as? String).orEmpty().isNotEmpty(), "$file needs a description")
    val cases = vectors["cases"] as List<*>
    assertTrue(cases.size > minCases, "$file has only ${cases.size} cases")
    return vectors
}

/**
 * Runs [run] on every case of [vectors], which returns what went wrong or
 * null; throws listing every failure, duplicate case names included.
 */
fun runEachCase(file: String, vectors: Map<*, *>, run: (Map<*, *>) -> String?) {
    val cases = vectors["cases"] as List<*>
    val names = HashSet<String>()
    val failures = mutableListOf<String>()
    for ((i, raw) in cases.withIndex()) {
        val case = raw as Map<*, *>
        val name = case["name"] as? String ?: "case #$i"
        if (!names.add(name)) failures += "$name: duplicate case name"
        try {
            run(case)?.let { failures += "$name: $it" }
        } catch (e: Exception) {
            failures += "$name: $e"
        }
    }
    if (failures.isNotEmpty()) {
        throw AssertionError("${failures.size} of ${cases.size} cases of $file failed:\n  " + failures.joinToString("\n  "))
    }
}

fun vectorTests() = Suite("vectors").apply {
    test("validation.json: every case passes") {
        val vectors = readVectors("validation.json", MIN_CASES)
        runEachCase("validation.json", vectors, ::runCase)
        println("     ran ${(vectors["cases"] as List<*>).size} validation vectors")
    }

    test("queries.json: every case passes or is skipped") { runQueryVectors() }

    test("patches.json: every case passes") { runPatchVectors() }
}

/** Runs one case in a fresh store; returns what went wrong, or null. */
private fun runCase(case: Map<*, *>): String? {
    val entity = case["entity"] as String
    val doc = Json.write(case["doc"])
    val valid = case["valid"] as Boolean
    val expected = (case["errorFields"] as List<*>?)?.map { it as String }?.toSet()
    memoryStore().use { store ->
        val created = try {
            when (entity) {
                "user" -> store.createUserJson(doc)
                "role" -> store.createRoleJson(doc)
                "client" -> (Json.parse(store.createClientJson(doc)) as Map<*, *>)["client"].let(Json::write)
                else -> return "unknown entity $entity"
            }
        } catch (e: RosterException.Validation) {
            val actual = e.errors.map { it.field }.toSet()
            return when {
                valid -> "expected valid, got $e"
                actual != expected -> "expected errors on $expected, got $actual ($e)"
                else -> null
            }
        } catch (e: RosterException) {
            return "expected ${if (valid) "valid" else "a Validation error"}, got $e"
        }
        if (!valid) return "expected errors on $expected, but it was accepted"
        return roundTrip(entity, case["doc"] as Map<*, *>, Json.parse(created) as Map<*, *>)
    }
}

/**
 * Checks that every field sent comes back: write-only fields excepted, null
 * meaning absent, and roles and permissions sorted and deduplicated.
 */
private fun roundTrip(entity: String, sent: Map<*, *>, created: Map<*, *>): String? {
    val problems = mutableListOf<String>()
    for ((key, value) in sent) {
        if (value == null || key == "password" || key == "passwordHash") continue
        val expected = when (key) {
            "roles" -> (value as List<*>).map { it as JsonNumber }.distinct().sortedBy { it.text.toBigDecimal() }
            "permissions" -> (value as List<*>).map { it as String }.distinct().sorted()
            else -> value
        }
        if (!created.containsKey(key)) {
            problems += "$key sent ${Json.write(value)}, missing in the result"
        } else if (created[key] != expected) {
            problems += "$key sent ${Json.write(value)}, came back ${Json.write(created[key])}"
        }
    }
    if (entity == "user") {
        val hasPassword = sent["password"] != null || sent["passwordHash"] != null
        if (created["hasPassword"] != hasPassword) problems += "hasPassword is ${created["hasPassword"]}"
    }
    if (created["version"] != JsonNumber("1")) problems += "version is ${created["version"]}"
    return if (problems.isEmpty()) null else "created, but ${problems.joinToString("; ")}"
}
