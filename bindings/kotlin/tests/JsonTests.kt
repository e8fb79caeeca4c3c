// JSON across the binding: attributes as JSON text, the JSON-document entry
// points, and malformed JSON arriving as typed Validation errors.
package rosterdb.tests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import rosterdb.NewUser
import rosterdb.Secret

fun jsonTests() = Suite("json").apply {
    test("attributes round-trip as JSON, through a reopen too") {
        val attributes = """
            {"department": "R&D", "tfa": true, "level": 3, "ratio": 0.25, "manager": null,
             "clientTags": ["a", "b"], "office": {"city": "Zürich", "floor": -1, "desk": "東 12"},
             "emoji": "🦀", "quote": "say \"hi\"\n"}
        """.trimIndent()
        withTempDir { dir ->
            val path = dir.resolve("attrs.redb").toString()
            val id = rosterdb.RosterStore.open(path, CHEAP).use { store ->
                val user = store.createUser(NewUser("gina", "gina@example.com", "Gina", "G", attributes = attributes))
                assertEquals(Json.parse(attributes), Json.parse(user.attributes))
                user.id
            }
            rosterdb.RosterStore.open(path).use { store ->
                assertEquals(Json.parse(attributes), Json.parse(store.getUser(id).attributes))
            }
        }
    }

    test("attributes that are not a JSON object are a Validation error on attributes") {
        memoryStore().use { store ->
            val deep = "[".repeat(200) + "]".repeat(200)
            for (bad in listOf("", "{", "{\"a\":}", "[]", "null", "42", "\"text\"", "{\"a\":1}x", "{\"k\":$deep}")) {
                val e = assertInvalid("attributes") {
                    store.createUser(NewUser("hank", "hank@example.com", "Hank", "H", attributes = bad))
                }
                assertTrue(e.errors.single().message.isNotEmpty())
            }
            val tooDeep = "[".repeat(40) + "]".repeat(40)
            assertInvalid("attributes") {
                store.createUser(NewUser("hank", "hank@example.com", "Hank", "H", attributes = "{\"k\":$tooDeep}"))
            }
            // Reported together with the document's other problems.
            assertInvalid("email", "attributes") {
                store.createUser(NewUser("hank", "nope", "Hank", "H", attributes = "[1]"))
            }
            assertEquals(0, store.changes().size)
        }
    }

    test("createUserJson takes and returns camelCase documents") {
        memoryStore().use { store ->
            val doc = """{"username": "ivy", "email": "ivy@example.com", "firstName": "Ivy", "lastName": "I",
                "externalIds": [{"type": "github", "value": "42"}], "attributes": {"city": "Oslo"},
                "password": "a long enough password"}"""
            val text = store.createUserJson(doc)
            assertFalse(text.contains("a long enough password"), text)
            @Suppress("UNCHECKED_CAST")
            val created = Json.parse(text) as Map<String, Any?>
            assertEquals(JsonNumber("1"), created["id"])
            assertEquals("Ivy", created["firstName"])
            assertEquals(true, created["hasPassword"])
            assertEquals(listOf(mapOf("type" to "github", "value" to "42")), created["externalIds"])
            assertEquals(mapOf("city" to "Oslo"), created["attributes"])
            assertFalse(created.containsKey("password"))
            assertFalse(created.containsKey("nickname"), "absent fields are left out")
            val typed = store.getUser(1uL)
            assertEquals(created["createdAt"], typed.createdAt)
            assertEquals("Oslo", (Json.parse(typed.attributes) as Map<*, *>)["city"])
        }
    }

    test("createRoleJson and createClientJson") {
        memoryStore().use { store ->
            val role = Json.parse(store.createRoleJson("""{"name": "ops", "permissions": ["b", "a", "a"]}""")) as Map<*, *>
            assertEquals(listOf("a", "b"), role["permissions"])
            val created = Json.parse(
                store.createClientJson("""{"name": "ci", "roles": [${role["id"]}], "ipAllowlist": ["::1"]}"""),
            ) as Map<*, *>
            val client = created["client"] as Map<*, *>
            val secret = created["secret"] as String
            assertEquals(43, secret.length)
            assertEquals(listOf(role["id"]), client["roles"])
            assertEquals(client["clientId"], store.getClient(1uL).clientId)
            assertFalse(client.containsKey("secret"))
        }
    }

    test("malformed JSON documents are Validation errors") {
        memoryStore().use { store ->
            for (bad in listOf("", "{", "not json", "{\"username\": }", "[1, 2]", "null", "\"user\"")) {
                assertInvalid("") { store.createUserJson(bad) }
                assertInvalid("") { store.createRoleJson(bad) }
                assertInvalid("") { store.createClientJson(bad) }
            }
            assertInvalid("username", "email", "firstName", "lastName") { store.createUserJson("{}") }
            assertInvalid("foo", "id") {
                store.createRoleJson("""{"name": "r", "foo": 1, "id": 7}""")
            }
            assertInvalid("attributes") {
                store.createUserJson(
                    """{"username": "u", "email": "u@example.com", "firstName": "U", "lastName": "U", "attributes": [1]}""",
                )
            }
            assertEquals(0, store.changes().size)
        }
    }

    test("a password in a JSON document never shows in an error") {
        memoryStore().use { store ->
            val e = assertInvalid("password", "email") {
                store.createUserJson(
                    """{"username": "u", "email": "bad", "firstName": "U", "lastName": "U", "password": "Zq9"}""",
                )
            }
            assertFalse(e.toString().contains("Zq9"), e.toString())
            assertFalse(e.message.orEmpty().contains("Zq9"), e.message)
        }
    }
}
