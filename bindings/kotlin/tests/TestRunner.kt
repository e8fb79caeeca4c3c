// The test runner of the Kotlin suite: no JUnit or Maven is needed, only
// kotlin-test's assertions. It runs every test, prints one line per test and
// ends with "N passed, N failed"; the exit code is 1 when any test failed.
package rosterdb.tests

import kotlin.system.exitProcess

/** A named group of tests; each test is a function that throws on failure. */
class Suite(val name: String) {
    val tests = mutableListOf<Pair<String, () -> Unit>>()

    /** Registers a test. */
    fun test(name: String, body: () -> Unit) {
        tests += name to body
    }
}

fun main(args: Array<String>) {
    val only = args.firstOrNull()
    val suites = listOf(
        storeTests(), errorTests(), conversionTests(), jsonTests(), queryTests(), updateTests(), tenancyTests(), transferTests(),
        authTests(), sessionTests(), walkTests(), transactionTests(), lifetimeTests(), vectorTests(), docsTests(),
        createManyTests(),
    )
    var passed = 0
    var failed = 0
    for (suite in suites) {
        for ((name, body) in suite.tests) {
            val label = "${suite.name}: $name"
            if (only != null && !label.contains(only)) continue
            val started = System.nanoTime()
            try {
                body()
                passed++
                println("PASS $label (${(System.nanoTime() - started) / 1_000_000} ms)")
            } catch (t: Throwable) {
                failed++
                println("FAIL $label")
                println("     ${t.toString().replace("\n", "\n     ")}")
                t.stackTrace.filter { it.className.startsWith("rosterdb.tests") }.take(4).forEach { println("       at $it") }
            }
        }
    }
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
