// A small JSON reader and writer for the tests, which have no JSON library
// (nothing comes from Maven). Objects read as LinkedHashMap, arrays as List,
// numbers as JsonNumber (compared by value), and strings, booleans and null
// as themselves.
package rosterdb.tests

import java.math.BigDecimal

/** A JSON number, kept as written and compared by value (`1.0 == 1`). */
class JsonNumber(val text: String) {
    private val value = BigDecimal(text)

    override fun equals(other: Any?) = other is JsonNumber && value.compareTo(other.value) == 0

    override fun hashCode() = value.stripTrailingZeros().hashCode()

    override fun toString() = text
}

object Json {
    /** Parses a whole JSON text; throws IllegalArgumentException when it is not JSON. */
    fun parse(text: String): Any? {
        val reader = Reader(text)
        val value = reader.value()
        reader.skipSpace()
        require(reader.pos == text.length) { "trailing text at ${reader.pos}" }
        return value
    }

    /** Writes a value read by [parse] (or built of the same types) as compact JSON. */
    fun write(value: Any?): String = StringBuilder().also { write(value, it) }.toString()

    private fun write(value: Any?, out: StringBuilder) {
        when (value) {
            null -> out.append("null")
            is Boolean, is JsonNumber, is Int, is Long -> out.append(value.toString())
            is String -> {
                out.append('"')
                for (c in value) {
                    when {
                        c == '"' -> out.append("\\\"")
                        c == '\\' -> out.append("\\\\")
                        c < ' ' -> out.append("\\u%04x".format(c.code))
                        else -> out.append(c)
                    }
                }
                out.append('"')
            }
            is Map<*, *> -> {
                out.append('{')
                value.entries.forEachIndexed { i, (k, v) ->
                    if (i > 0) out.append(',')
                    write(k as String, out)
                    out.append(':')
                    write(v, out)
                }
                out.append('}')
            }
            is List<*> -> {
                out.append('[')
                value.forEachIndexed { i, v ->
                    if (i > 0) out.append(',')
                    write(v, out)
                }
                out.append(']')
            }
            else -> throw IllegalArgumentException("not a JSON value: $value")
        }
    }

    private class Reader(val text: String) {
        var pos = 0

        fun skipSpace() {
            while (pos < text.length && text[pos] in " \t\r\n") pos++
        }

        private fun fail(what: String): Nothing = throw IllegalArgumentException("$what at $pos")

        private fun expect(c: Char) {
            if (pos >= text.length || text[pos] != c) fail("expected '$c'")
            pos++
        }

        fun value(): Any? {
            skipSpace()
            if (pos >= text.length) fail("unexpected end")
            return when (text[pos]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> number()
            }
        }

        private fun literal(word: String, value: Any?): Any? {
            if (!text.startsWith(word, pos)) fail("unknown literal")
            pos += word.length
            return value
        }

        private fun obj(): Map<String, Any?> {
            expect('{')
            val map = LinkedHashMap<String, Any?>()
            skipSpace()
            if (text.getOrNull(pos) == '}') return map.also { pos++ }
            while (true) {
                skipSpace()
                val key = string()
                skipSpace()
                expect(':')
                map[key] = value()
                skipSpace()
                if (text.getOrNull(pos) == ',') pos++ else break
            }
            expect('}')
            return map
        }

        private fun array(): List<Any?> {
            expect('[')
            val list = ArrayList<Any?>()
            skipSpace()
            if (text.getOrNull(pos) == ']') return list.also { pos++ }
            while (true) {
                list += value()
                skipSpace()
                if (text.getOrNull(pos) == ',') pos++ else break
            }
            expect(']')
            return list
        }

        private fun string(): String {
            expect('"')
            val out = StringBuilder()
            while (true) {
                if (pos >= text.length) fail("unterminated string")
                val c = text[pos++]
                when {
                    c == '"' -> return out.toString()
                    c < ' ' -> fail("control character in string")
                    c != '\\' -> out.append(c)
                    else -> {
                        if (pos >= text.length) fail("unterminated escape")
                        when (val e = text[pos++]) {
                            '"', '\\', '/' -> out.append(e)
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000c')
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'u' -> {
                                val hex = text.substring(pos, minOf(pos + 4, text.length))
                                if (hex.length != 4) fail("short \\u escape")
                                out.append(hex.toInt(16).toChar())
                                pos += 4
                            }
                            else -> fail("bad escape")
                        }
                    }
                }
            }
        }

        private fun number(): JsonNumber {
            val match = NUMBER.matchAt(text, pos) ?: fail("bad number")
            pos += match.value.length
            return JsonNumber(match.value)
        }
    }

    private val NUMBER = Regex("""-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?""")
}
