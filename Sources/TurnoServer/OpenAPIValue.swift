import Foundation
import TurnoCore

/// A JSON value of the OpenAPI document. Unlike `JSONSerialization`'s, objects keep their members in document order, so
/// `/docs` lists fields (and writes examples) in the order the contract gives them, and numbers keep their literal text,
/// so a bound such as 9223372036854775807 is shown as written rather than as a rounded double.
enum OpenAPIValue {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([OpenAPIValue])
    case object([(key: String, value: OpenAPIValue)])

    /// Parses the whole of `data` as one JSON value.
    init(parsing data: Data) throws {
        var parser = OpenAPIValueParser(data)
        self = try parser.parseDocument()
    }

    /// An object's member; nil for a missing key or a value that is not an object.
    subscript(key: String) -> OpenAPIValue? {
        members?.first { $0.key == key }?.value
    }

    var members: [(key: String, value: OpenAPIValue)]? {
        if case .object(let members) = self { members } else { nil }
    }

    var array: [OpenAPIValue]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    var string: String? {
        if case .string(let text) = self { text } else { nil }
    }

    var bool: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    /// A number's value, for comparing bounds (its literal text stays what is shown).
    var double: Double? {
        if case .number(let text) = self { Double(text) } else { nil }
    }

    /// JSON text: indented by two spaces per level when `pretty` (examples), on one line otherwise (enum values, defaults).
    func json(pretty: Bool, indent: String = "") -> String {
        let inner = indent + "  "
        func list(_ items: [String], open: String, close: String) -> String {
            if items.isEmpty { return open + close }
            guard pretty else { return open + items.joined(separator: ", ") + close }
            return open + "\n" + items.map { inner + $0 }.joined(separator: ",\n") + "\n" + indent + close
        }
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text
        case .string(let text): return Self.quoted(text)
        case .array(let elements): return list(elements.map { $0.json(pretty: pretty, indent: inner) }, open: "[", close: "]")
        case .object(let members):
            return list(members.map { "\(Self.quoted($0.key)): \($0.value.json(pretty: pretty, indent: inner))" }, open: "{", close: "}")
        }
    }

    /// A JSON string literal. Written by hand because `JSONEncoder` escapes `/`, which would clutter every path shown.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case ..<" ": result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// An RFC 8259 parser for the shipped OpenAPI document. TurnoCore has its own for request bodies, private to the strict
/// decoder; this one is kept apart so the documentation does not widen that module's API.
private struct OpenAPIValueParser {
    /// Far deeper than the document goes; it keeps the recursion bounded.
    private static let maximumDepth = 256

    private let bytes: [UInt8]
    private var index: Int

    init(_ data: Data) {
        bytes = Array(data)
        index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    mutating func parseDocument() throws -> OpenAPIValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw malformed() }
        return value
    }

    private func malformed() -> SettingsError {
        SettingsError("the OpenAPI document is not valid JSON (at byte \(index))")
    }

    private mutating func parseValue(depth: Int) throws -> OpenAPIValue {
        guard depth <= Self.maximumDepth else { throw malformed() }
        skipWhitespace()
        guard index < bytes.count else { throw malformed() }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", as: .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", as: .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", as: .null)
        default: return .number(try parseNumber())
        }
    }

    private mutating func parseObject(depth: Int) throws -> OpenAPIValue {
        index += 1
        var members: [(key: String, value: OpenAPIValue)] = []
        skipWhitespace()
        if try consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw malformed() }
            let key = try parseString()
            skipWhitespace()
            guard try consume(UInt8(ascii: ":")) else { throw malformed() }
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
        } while try consume(UInt8(ascii: ","))
        guard try consume(UInt8(ascii: "}")) else { throw malformed() }
        return .object(members)
    }

    private mutating func parseArray(depth: Int) throws -> OpenAPIValue {
        index += 1
        var elements: [OpenAPIValue] = []
        skipWhitespace()
        if try consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
        } while try consume(UInt8(ascii: ","))
        guard try consume(UInt8(ascii: "]")) else { throw malformed() }
        return .array(elements)
    }

    private mutating func parseString() throws -> String {
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else { throw malformed() }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"): utf8.append(contentsOf: try parseEscape())
            case ..<0x20: throw malformed()
            default: utf8.append(byte)
            }
        }
    }

    /// The UTF-8 of the escape after a backslash, with `\u` surrogate pairs joined.
    private mutating func parseEscape() throws -> [UInt8] {
        guard index < bytes.count else { throw malformed() }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return [byte]
        case UInt8(ascii: "b"): return [0x08]
        case UInt8(ascii: "f"): return [0x0C]
        case UInt8(ascii: "n"): return [0x0A]
        case UInt8(ascii: "r"): return [0x0D]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xD800..<0xDC00).contains(code) {
                guard try consume(UInt8(ascii: "\\")), try consume(UInt8(ascii: "u")) else { throw malformed() }
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw malformed() }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw malformed() }
            return Array(String(Character(scalar)).utf8)
        default:
            throw malformed()
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw malformed()
        }
        index += 4
        return code
    }

    /// The number's literal text, checked to be a number.
    private mutating func parseNumber() throws -> String {
        let start = index
        while index < bytes.count, Self.numberBytes.contains(bytes[index]) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !text.isEmpty, Double(text) != nil else { throw malformed() }
        return text
    }

    private static let numberBytes = Set("+-.0123456789eE".utf8)

    private mutating func parseLiteral(_ literal: String, as value: OpenAPIValue) throws -> OpenAPIValue {
        let literal = Array(literal.utf8)
        guard bytes[index...].starts(with: literal) else { throw malformed() }
        index += literal.count
        return value
    }

    /// Steps over `byte` if it comes next.
    private mutating func consume(_ byte: UInt8) throws -> Bool {
        guard index < bytes.count else { throw malformed() }
        guard bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }
}
