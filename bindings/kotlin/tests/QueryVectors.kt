// The language-neutral query vectors of tests/vectors/queries.json (see
// tests/vectors/README.md), run through ListQuery, listJson, the typed lists
// and count. A case whose parameters ListQuery cannot carry (a parameter
// given twice, a number that is not a ULong or UInt, a withTotal that is not
// true or false, a step that sends withTotal=false) is skipped and named; the
// Rust runner covers it. The steps of `then` list with their own parameters
// plus `cursor`, the nextCursor of the last page listed.
package rosterdb.tests

import kotlin.test.assertEquals
import rosterdb.EntityKind
import rosterdb.ListQuery
import rosterdb.RosterException
import rosterdb.RosterStore

/** Fewer cases than this means the file was emptied or truncated by accident. */
private const val MIN_QUERY_CASES = 60

/** The keys a case may have; any other is a mistake in the file or a key this runner lacks. */
private val CASE_KEYS = setOf(
    "name", "entity", "params", "where", "ids", "total", "count", "nextCursor", "items", "pages",
    "error", "errorField", "errorPosition", "then",
)

/** The keys a step of `then` may have. */
private val STEP_KEYS = setOf(
    "params", "ids", "total", "nextCursor", "items", "error", "errorField", "errorPosition",
)

/** Runs every case of queries.json against its population; throws listing every failure. */
fun runQueryVectors() {
    val vectors = readVectors("queries.json", MIN_QUERY_CASES)
    val skipped = mutableListOf<String>()
    memoryStore().use { store ->
        populate(store, vectors["population"] as Map<*, *>)
        runEachCase("queries.json", vectors) { case ->
            val unknown = case.keys.filter { it !in CASE_KEYS }
            require(unknown.isEmpty()) { "unknown case keys $unknown" }
            try {
                val steps = (case["then"] as List<*>? ?: emptyList<Any>()).map { stepQuery(it as Map<*, *>) }
                runQueryCase(store, case, listQuery(case), steps)
            } catch (e: Inexpressible) {
                skipped += "${case["name"]} (${e.message})"
                null
            }
        }
    }
    val ran = (vectors["cases"] as List<*>).size - skipped.size
    println("     ran $ran query vectors, skipped ${skipped.size} that ListQuery cannot carry:")
    skipped.forEach { println("       $it") }
}

/** Creates the roles, users and clients in order through the JSON entry points; ids run 1..n. */
private fun populate(store: RosterStore, population: Map<*, *>) {
    for ((kind, create) in listOf<Pair<String, (String) -> String>>(
        "roles" to store::createRoleJson,
        "users" to store::createUserJson,
        "clients" to { doc -> Json.write((Json.parse(store.createClientJson(doc)) as Map<*, *>)["client"]) },
    )) {
        for ((i, doc) in (population[kind] as List<*>).withIndex()) {
            val created = Json.parse(create(Json.write(doc))) as Map<*, *>
            assertEquals(JsonNumber("${i + 1}"), created["id"], "$kind ids run 1..n")
        }
    }
}

/** A case ListQuery cannot express. */
private class Inexpressible(reason: String) : Exception(reason)

/** The case's `params` and `where` as a ListQuery: reserved names to their fields, the rest to `filters`. */
private fun listQuery(case: Map<*, *>): ListQuery {
    val pairs = (case["params"] as List<*>? ?: emptyList<Any>()).map { pair ->
        val (name, value) = pair as List<*>
        name as String to value as String
    } + listOfNotNull((case["where"] as String?)?.let { "where" to it })
    require(pairs.isNotEmpty()) { "a case needs params or where" }
    val given = HashSet<String>()
    val filters = LinkedHashMap<String, String>()
    var query = ListQuery()
    for ((name, value) in pairs) {
        if (!given.add(name)) throw Inexpressible("$name is given twice")
        query = when (name) {
            "where" -> query.copy(filter = value)
            "search" -> query.copy(search = value)
            "sort" -> query.copy(sort = value.split(","))
            "fields" -> query.copy(fields = value.split(","))
            "page" -> query.copy(page = number(name, value, "ULong", String::toULongOrNull))
            "pageSize" -> query.copy(pageSize = number(name, value, "UInt", String::toUIntOrNull))
            "offset" -> query.copy(offset = number(name, value, "ULong", String::toULongOrNull))
            "limit" -> query.copy(limit = number(name, value, "UInt", String::toUIntOrNull))
            "cursor" -> query.copy(cursor = value)
            "withTotal" -> query.copy(
                withTotal = when (value) {
                    "true" -> true
                    "false" -> false
                    else -> throw Inexpressible("withTotal $value is not a Boolean")
                },
            )
            else -> query.also { filters[name] = value }
        }
    }
    return query.copy(filters = filters)
}

/**
 * A step of `then` and its ListQuery (its params; the cursor is added when
 * it runs). ListQuery sends withTotal only when true, so a step that sends
 * withTotal=false, which would turn a cursor's totals off, is Inexpressible.
 */
private fun stepQuery(step: Map<*, *>): Pair<Map<*, *>, ListQuery> {
    val unknown = step.keys.filter { it !in STEP_KEYS }
    require(unknown.isEmpty()) { "unknown step keys $unknown" }
    val params = step["params"] as List<*>? ?: emptyList<Any>()
    if (params.any { (it as List<*>)[0] == "withTotal" && it[1] == "false" }) {
        throw Inexpressible("a step sends withTotal=false")
    }
    return step to (if (params.isEmpty()) ListQuery() else listQuery(mapOf("params" to params)))
}

/** A paging number that reads back as the same text, or Inexpressible. */
private fun <T : Any> number(name: String, text: String, type: String, read: (String) -> T?): T =
    read(text)?.takeIf { it.toString() == text } ?: throw Inexpressible("$name \"$text\" is not a $type")

private fun entityKind(entity: String) = when (entity) {
    "user" -> EntityKind.USER
    "role" -> EntityKind.ROLE
    "client" -> EntityKind.CLIENT
    else -> throw IllegalArgumentException("unknown entity $entity")
}

/** A page of listJson, read. */
private class JsonPage(text: String) {
    private val doc = Json.parse(text) as Map<*, *>
    val items = doc["items"] as List<*>
    val total = (doc["total"] as JsonNumber?)?.text?.toULong()
    val nextCursor = doc["nextCursor"] as String?
    val ids = items.map { ((it as Map<*, *>)["id"] as JsonNumber).text.toULong() }
}

/** A typed page's ids, total and cursor. */
private fun typedPage(store: RosterStore, kind: EntityKind, query: ListQuery): Triple<List<ULong>, ULong?, String?> =
    when (kind) {
        EntityKind.USER -> store.listUsers(query).let { p -> Triple(p.items.map { it.id }, p.total, p.nextCursor) }
        EntityKind.ROLE -> store.listRoles(query).let { p -> Triple(p.items.map { it.id }, p.total, p.nextCursor) }
        EntityKind.CLIENT -> store.listClients(query).let { p -> Triple(p.items.map { it.id }, p.total, p.nextCursor) }
    }

private fun ulongs(value: Any?) = (value as List<*>).map { (it as JsonNumber).text.toULong() }

/** What differs between a page and the ids, total, nextCursor and items a case or step expects. */
private fun pageProblems(want: Map<*, *>, page: JsonPage): List<String> {
    val problems = mutableListOf<String>()
    if (want.containsKey("ids") && page.ids != ulongs(want["ids"])) {
        problems += "ids: expected ${want["ids"]}, got ${page.ids}"
    }
    if (want.containsKey("total") && page.total != (want["total"] as JsonNumber?)?.text?.toULong()) {
        problems += "total: expected ${want["total"]}, got ${page.total}"
    }
    if (want.containsKey("nextCursor") && (page.nextCursor != null) != want["nextCursor"]) {
        problems += "nextCursor: expected present=${want["nextCursor"]}, got ${page.nextCursor}"
    }
    if (want.containsKey("items") && page.items != want["items"]) {
        problems += "items: expected ${Json.write(want["items"])}, got ${Json.write(page.items)}"
    }
    return problems
}

/** Runs the steps of `then` after the first page; returns what went wrong, or null. */
private fun follow(store: RosterStore, kind: EntityKind, first: JsonPage, steps: List<Pair<Map<*, *>, ListQuery>>): String? {
    var cursor = first.nextCursor
    for ((n, pair) in steps.withIndex()) {
        val (step, stepQuery) = pair
        val token = cursor ?: return "step ${n + 1}: the page before has no nextCursor"
        val query = stepQuery.copy(cursor = token)
        if (step.containsKey("error")) {
            expectError(store, kind, step, query, step["error"]!!)?.let { return "step ${n + 1}: $it" }
            continue
        }
        val page = JsonPage(store.listJson(kind, query))
        val problems = pageProblems(step, page)
        if (problems.isNotEmpty()) return "step ${n + 1}: ${problems.joinToString("; ")}"
        cursor = page.nextCursor
    }
    return null
}

/** Runs one case; returns what went wrong, or null. */
private fun runQueryCase(
    store: RosterStore,
    case: Map<*, *>,
    query: ListQuery,
    steps: List<Pair<Map<*, *>, ListQuery>>,
): String? {
    val kind = entityKind(case["entity"] as String)
    case["error"]?.let { return expectError(store, kind, case, query, it) }
    val problems = mutableListOf<String>()
    if (case.containsKey("count")) {
        val want = (case["count"] as JsonNumber).text.toULong()
        val got = store.count(kind, query)
        if (got != want) problems += "count: expected $want, got $got"
    }
    if (listOf("ids", "total", "nextCursor", "items", "pages", "then").none(case::containsKey)) {
        return problems.joinToString("; ").ifEmpty { null }
    }
    val page = JsonPage(store.listJson(kind, query))
    problems += pageProblems(case, page)
    if (steps.isNotEmpty()) {
        follow(store, kind, page, steps)?.let { problems += "then: $it" }
    }
    if (case.containsKey("pages")) {
        val pages = walk(store, kind, page)
        if (pages != (case["pages"] as List<*>).map(::ulongs)) problems += "pages: expected ${case["pages"]}, got $pages"
    }
    if (query.fields.isEmpty()) {
        val typed = typedPage(store, kind, query)
        if (typed != Triple(page.ids, page.total, page.nextCursor)) {
            problems += "the typed page $typed differs from listJson's ${Triple(page.ids, page.total, page.nextCursor)}"
        }
    }
    return problems.joinToString("; ").ifEmpty { null }
}

/** The ids of the first page and of each page after it, following nextCursor with a cursor alone. */
private fun walk(store: RosterStore, kind: EntityKind, first: JsonPage): List<List<ULong>> {
    val pages = mutableListOf(first.ids)
    var next = first.nextCursor
    while (next != null) {
        if (pages.size > 100) throw AssertionError("more than 100 pages")
        val page = JsonPage(store.listJson(kind, ListQuery(cursor = next)))
        pages += page.ids
        next = page.nextCursor
    }
    return pages
}

/** Checks that both listJson and count fail with the case's InvalidQuery. */
private fun expectError(store: RosterStore, kind: EntityKind, case: Map<*, *>, query: ListQuery, error: Any): String? {
    if (error != "InvalidQuery") return "unknown error kind $error"
    for ((call, run) in listOf<Pair<String, () -> Any>>(
        "listJson" to { store.listJson(kind, query) },
        "count" to { store.count(kind, query) },
    )) {
        val e = try {
            val result = run()
            return "$call: expected InvalidQuery, got $result"
        } catch (e: RosterException.InvalidQuery) {
            e
        } catch (e: RosterException) {
            return "$call: expected InvalidQuery, got $e"
        }
        if (case.containsKey("errorField") && e.field != case["errorField"]) {
            return "$call: expected the error on field ${case["errorField"]}, got $e (field ${e.field})"
        }
        val position = (case["errorPosition"] as JsonNumber?)?.text?.toULong()
        if (case.containsKey("errorPosition") && e.position != position) {
            return "$call: expected the error at position $position, got $e (position ${e.position})"
        }
    }
    return null
}
