// The Kotlin code blocks of the READMEs, compiled by test-kotlin.sh into the
// packages rosterdb.docs.bindings (bindings/README.md) and rosterdb.docs.root
// (README.md, when it has one), and run here: docs are tests.
package rosterdb.tests

import java.lang.reflect.InvocationTargetException

fun docsTests() = Suite("docs").apply {
    for ((readme, pkg) in listOf("bindings/README.md" to "rosterdb.docs.bindings", "README.md" to "rosterdb.docs.root")) {
        val file = try {
            Class.forName("$pkg.QuickStartKt")
        } catch (e: ClassNotFoundException) {
            null
        }
        if (file == null && pkg == "rosterdb.docs.root") continue
        test("the quick start of $readme runs") {
            val run = file?.methods?.find { it.name == "quickStart" && it.parameterTypes.contentEquals(arrayOf(String::class.java)) }
                ?: throw AssertionError("$readme has no Kotlin block defining fun quickStart(path: String)")
            withTempDir { dir ->
                try {
                    run.invoke(null, dir.resolve("roster.redb").toString())
                } catch (e: InvocationTargetException) {
                    throw e.cause ?: e
                }
            }
        }
    }
}
