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
        self.init(try JSONValue(parsing: data))
    }

    /// The platform's parsed JSON (the one strict request decoding uses), without its object ids.
    init(_ value: JSONValue) {
        self =
            switch value {
            case .null: .null
            case .bool(let flag): .bool(flag)
            case .number(let text): .number(text)
            case .string(let text): .string(text)
            case .array(let elements): .array(elements.map(OpenAPIValue.init))
            case .object(_, let members): .object(members.map { (key: $0.key, value: OpenAPIValue($0.value)) })
            }
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
