import Foundation

/// A field in a request body that the route does not know (usually misspelt).
/// `JSONDecoder` skips such fields silently, so without this error a client sending `timezone` for `time_zone`
/// would never learn that its value was ignored.
public struct UnknownField: Error, Equatable, Sendable {
    /// Where it is, as sent: `timezone`, `sessions[2].distnce`.
    public var path: String
    /// The closest field the route knows at that place, as sent (snake_case), if any is close.
    public var suggestion: String?

    /// Public so tests and callers can build the error they expect to compare with.
    public init(path: String, suggestion: String?) {
        self.path = path
        self.suggestion = suggestion
    }

    /// The sentence a client reads, e.g. "`timezone` is not a field of this request; did you mean `time_zone`?".
    public var detail: String {
        let sentence = "`\(path)` is not a field of this request"
        guard let suggestion else { return sentence }
        return sentence + "; did you mean `\(suggestion)`?"
    }
}

/// A field sent as `null`. No field of this API takes null: a null is a mistake (or "clear it", which no route offers),
/// never "absent", so it is refused rather than read as a field left out.
public struct NullField: Error, Equatable, Sendable {
    /// Where it is, as sent: `name`, `origin.x`, or `the body`.
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public var detail: String { "`\(path)` is null; leave a field out instead of sending null" }
}

/// Decodes request bodies like `TurnoJSONDecoder` (snake_case keys, ISO-8601 dates) but refuses fields the type never
/// reads, and nulls.
///
/// `JSONDecoder` cannot tell which keys a `Decodable` type read, so the body is decoded twice: by `JSONDecoder`, which
/// gives the value and every error about it, then again by a replaying decoder that records each key the type asks for.
public enum StrictJSON {
    /// Decodes like ``JSONCoding/decoder`` (rethrowing its `DecodingError`
    /// unchanged), then throws ``UnknownField`` for the first key, in document order, that the type never asked for.
    /// The body is parsed once for both checks; a body the parser refuses is left to `JSONDecoder`'s own error. A null
    /// is refused first (``NullField``), before `JSONDecoder` could call a required null field merely mistyped.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        var parser = JSONParser(data)
        let root = try? parser.parseDocument()
        if let path = root?.firstNull(at: "") { throw NullField(path: path) }
        let value = try JSONCoding.decoder.decode(type, from: data)
        if let root, let unknown = firstUnknownField(decoding: type, in: root) { throw unknown }
        return value
    }

    /// The first field `type` never asks for. Nil too when the replay cannot follow the type: the replay only checks,
    /// `JSONDecoder` has already accepted the body, so a type the replay does not understand is left unchecked.
    private static func firstUnknownField<T: Decodable>(decoding type: T.Type, in root: JSONValue) -> UnknownField? {
        let record = KeyRecord()
        do {
            _ = try ReplayDecoder(value: root, codingPath: [], record: record).decode(type)
        } catch {
            return nil
        }
        return record.firstUnknownField(in: root, at: "")
    }
}

// MARK: - The body as sent

/// A parsed JSON value that, unlike `JSONSerialization`'s, keeps object members in document order (so the first
/// unknown field reported is the first one sent) and numbers as their literal text (so every integer width decodes exactly).
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    /// `id` tells the objects apart, so what the replay learns about one can be found again when walking the body.
    case object(id: Int, members: [(key: String, value: JSONValue)])
}

extension JSONValue {
    /// Where the first null is (`name`, `origin.x`; object members in key order), if any. Arrays are not looked into: a
    /// null element fails to decode on its own, and objects inside arrays are batch items, which routes check one by
    /// one (`NullProbe`) so that one item's mistake does not refuse the others.
    func firstNull(at path: String) -> String? {
        switch self {
        case .null:
            return path.isEmpty ? "the body" : path
        case .object(_, let members):
            for member in members.sorted(by: { $0.key < $1.key }) {
                if let found = member.value.firstNull(at: path.isEmpty ? member.key : "\(path).\(member.key)") { return found }
            }
            return nil
        case .array, .bool, .number, .string:
            return nil
        }
    }
}

extension JSONValue {
    /// Parses the whole of `data` as one JSON value (RFC 8259; a leading byte-order mark is skipped).
    public init(parsing data: Data) throws {
        var parser = JSONParser(data)
        self = try parser.parseDocument()
    }
}

/// An RFC 8259 parser; it throws rather than guess at anything it does not accept.
private struct JSONParser {
    private struct Malformed: Error {}

    /// As deep as `JSONDecoder` goes, so the recursion below stays bounded.
    private static let maximumDepth = 512

    private let bytes: [UInt8]
    private var index: Int
    private var objectCount = 0

    init(_ data: Data) {
        bytes = Array(data)
        index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    mutating func parseDocument() throws -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw Malformed() }
        return value
    }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth <= Self.maximumDepth else { throw Malformed() }
        skipWhitespace()
        guard index < bytes.count else { throw Malformed() }
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

    private mutating func parseObject(depth: Int) throws -> JSONValue {
        let id = objectCount
        objectCount += 1
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if try consume(UInt8(ascii: "}")) { return .object(id: id, members: members) }
        repeat {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Malformed() }
            let key = try parseString()
            skipWhitespace()
            guard try consume(UInt8(ascii: ":")) else { throw Malformed() }
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
        } while try consume(UInt8(ascii: ","))
        guard try consume(UInt8(ascii: "}")) else { throw Malformed() }
        return .object(id: id, members: members)
    }

    private mutating func parseArray(depth: Int) throws -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
        } while try consume(UInt8(ascii: ","))
        guard try consume(UInt8(ascii: "]")) else { throw Malformed() }
        return .array(elements)
    }

    private mutating func parseString() throws -> String {
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else { throw Malformed() }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                utf8.append(contentsOf: try parseEscape())
            case ..<0x20:
                throw Malformed()
            default:
                utf8.append(byte)
            }
        }
    }

    /// The UTF-8 of the escape after a backslash, with `\u` surrogate pairs joined.
    private mutating func parseEscape() throws -> [UInt8] {
        guard index < bytes.count else { throw Malformed() }
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
                guard try consume(UInt8(ascii: "\\")), try consume(UInt8(ascii: "u")) else { throw Malformed() }
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw Malformed() }
            return Array(String(Character(scalar)).utf8)
        default:
            throw Malformed()
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw Malformed()
        }
        index += 4
        return code
    }

    /// The number's literal text; its digits are checked when a type asks for it, as `JSONDecoder` does.
    private mutating func parseNumber() throws -> String {
        let start = index
        while index < bytes.count, Self.numberBytes.contains(bytes[index]) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !text.isEmpty, Double(text) != nil else { throw Malformed() }
        return text
    }

    private static let numberBytes = Set("+-.0123456789eE".utf8)

    private mutating func parseLiteral(_ literal: String, as value: JSONValue) throws -> JSONValue {
        let literal = Array(literal.utf8)
        guard bytes[index...].starts(with: literal) else { throw Malformed() }
        index += literal.count
        return value
    }

    /// Steps over `byte` if it comes next.
    private mutating func consume(_ byte: UInt8) throws -> Bool {
        guard index < bytes.count else { throw Malformed() }
        guard bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, Self.whitespaceBytes.contains(bytes[index]) { index += 1 }
    }

    private static let whitespaceBytes: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
}

// MARK: - What the type asked for

/// What the replay learns about each JSON object, by its `JSONValue.object` id: the keys the type asked for there
/// (as coding-key strings, camelCase), whether it read the object as a keyed container at all, and whether it listed
/// every key (`allKeys`, as a dictionary does), which makes every key of that object a known one.
private final class KeyRecord {
    private var asked: [Int: Set<String>] = [:]
    private var opened: Set<Int> = []
    private var listed: Set<Int> = []

    func open(_ object: Int) { opened.insert(object) }

    func ask(_ key: String, in object: Int) { asked[object, default: []].insert(key) }

    func list(_ object: Int) { listed.insert(object) }

    /// The first member, in document order, of an object the type read as a keyed container, that it never asked for.
    func firstUnknownField(in value: JSONValue, at path: String) -> UnknownField? {
        switch value {
        case .array(let elements):
            for (position, element) in elements.enumerated() {
                if let unknown = firstUnknownField(in: element, at: "\(path)[\(position)]") { return unknown }
            }
        case .object(let id, let members):
            let checked = opened.contains(id) && !listed.contains(id)
            let known = asked[id, default: []]
            for member in members {
                let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                if checked, !known.contains(KeyCase.camelCase(member.key)) {
                    return UnknownField(path: memberPath, suggestion: Self.suggestion(for: member.key, among: known))
                }
                if let unknown = firstUnknownField(in: member.value, at: memberPath) { return unknown }
            }
        case .null, .bool, .number, .string:
            break
        }
        return nil
    }

    /// The known field (as snake_case) a client most likely meant by `field`: the same letters but for case and
    /// underscores (`timezone` → `time_zone`), else the fewest edits if few enough, else a known field that `field`
    /// is the last or first word of (`mode` → `routing_mode`).
    private static func suggestion(for field: String, among known: Set<String>) -> String? {
        let candidates = known.map(KeyCase.snakeCase).filter { $0 != field }.sorted()
        func squashed(_ text: String) -> String { text.lowercased().filter { $0 != "_" } }
        if let same = candidates.first(where: { squashed($0) == squashed(field) }) { return same }
        let lowered = field.lowercased()
        let limit = max(2, field.count / 3)
        let near = candidates.compactMap { candidate in editDistance(lowered, candidate, limit: limit).map { (candidate, $0) } }
        if let nearest = near.min(by: { $0.1 < $1.1 }) { return nearest.0 }
        return candidates.filter { $0.hasSuffix("_" + lowered) || $0.hasPrefix(lowered + "_") }.min { ($0.count, $0) < ($1.count, $1) }
    }

    /// Levenshtein distance, or nil when above `limit` (checked on the lengths first, so a huge key costs nothing).
    private static func editDistance(_ first: String, _ second: String, limit: Int) -> Int? {
        let first = Array(first)
        let second = Array(second)
        guard abs(first.count - second.count) <= limit else { return nil }
        var previous = Array(0...second.count)
        for (row, character) in first.enumerated() {
            var current = [row + 1] + Array(repeating: 0, count: second.count)
            for (column, other) in second.enumerated() {
                current[column + 1] = min(previous[column + 1] + 1, current[column] + 1, previous[column] + (character == other ? 0 : 1))
            }
            previous = current
        }
        return previous[second.count] <= limit ? previous[second.count] : nil
    }
}

/// Key spelling between the body (snake_case) and coding keys (camelCase).
private enum KeyCase {
    /// Foundation's `.convertFromSnakeCase`: underscores at either end kept, the words between joined, every word
    /// but the first capitalised (`time_zone` → `timeZone`); a key without inner underscores stays as it is.
    static func camelCase(_ key: String) -> String {
        guard let first = key.firstIndex(where: { $0 != "_" }), let last = key.lastIndex(where: { $0 != "_" }) else { return key }
        let words = key[first...last].split(separator: "_")
        guard words.count > 1 else { return key }
        let joined = words[0].lowercased() + words.dropFirst().map(\.capitalized).joined()
        return String(key[..<first]) + joined + String(key[key.index(after: last)...])
    }

    /// A coding key as a client would send it: a new word at each capital after a lower-case letter or digit, and at
    /// the last capital of an acronym followed by lower case (`distanceM` → `distance_m`, `sourceURLPath` → `source_url_path`).
    static func snakeCase(_ key: String) -> String {
        let characters = Array(key)
        var words: [String] = []
        var word = ""
        for (position, character) in characters.enumerated() {
            if character.isUppercase, !word.isEmpty {
                let afterCapital = characters[position - 1].isUppercase
                let beforeLower = position + 1 < characters.count && characters[position + 1].isLowercase
                if !afterCapital || beforeLower {
                    words.append(word)
                    word = ""
                }
            }
            word.append(character)
        }
        words.append(word)
        return words.map { $0.lowercased() }.joined(separator: "_")
    }
}

// MARK: - The replay

/// Marks `[String: X]`, whose keys `JSONDecoder` leaves as sent instead of converting them from snake_case.
private protocol StringKeyedDictionary {}

extension Dictionary: StringKeyedDictionary where Key == String {}

/// The coding-path entries the replay makes itself: array positions and `super`.
private struct ReplayKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    static let `super` = ReplayKey(stringValue: "super")
}

/// Decodes a type again from the parsed body, as `JSONDecoder` would (same key conversion, dates, data, URLs,
/// decimals and number checks), telling the record every key the type asks for.
private struct ReplayDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let record: KeyRecord
    /// False only while decoding a `[String: X]`, whose keys `JSONDecoder` does not convert.
    var convertsKeys = true

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let id, let members) = value else { throw mismatch([String: Any].self) }
        record.open(id)
        var values: [String: JSONValue] = [:]
        for member in members {
            let key = convertsKeys ? KeyCase.camelCase(member.key) : member.key
            if values[key] == nil { values[key] = member.value }
        }
        return KeyedDecodingContainer(ReplayKeyedContainer(id: id, values: values, codingPath: codingPath, record: record))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([Any].self) }
        return ReplayUnkeyedContainer(elements: elements, codingPath: codingPath, record: record)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(type) }
        return flag
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = value else { throw mismatch(type) }
        return text
    }

    func decode(_ type: Double.Type) throws -> Double { try floatingPoint(type) }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint(type) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: Int128.Type) throws -> Int128 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try integer(type) }

    /// The types `JSONDecoder` decodes its own way are intercepted here, as it does, wherever they are asked for.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Date.self, let date = try decodeDate() as? T { return date }
        if type == Data.self, let data = try decodeData() as? T { return data }
        if type == URL.self, let url = try decodeURL() as? T { return url }
        if type == Decimal.self, let decimal = try decodeDecimal() as? T { return decimal }
        if type is any StringKeyedDictionary.Type {
            var decoder = self
            decoder.convertsKeys = false
            return try T(from: decoder)
        }
        return try T(from: self)
    }

    private func decodeDate() throws -> Date {
        let text = try decode(String.self)
        guard let ms = Timestamp.parse(text) else { throw corrupted("Expected an ISO-8601 time such as 2026-11-21T07:30:00.250Z.") }
        return Date(milliseconds: ms)
    }

    private func decodeData() throws -> Data {
        guard let data = Data(base64Encoded: try decode(String.self)) else { throw corrupted("Expected Base64.") }
        return data
    }

    private func decodeURL() throws -> URL {
        guard let url = URL(string: try decode(String.self)) else { throw corrupted("Expected a URL.") }
        return url
    }

    private func decodeDecimal() throws -> Decimal {
        guard case .number(let text) = value else { throw mismatch(Decimal.self) }
        guard let decimal = Decimal(string: text) else { throw corrupted("Expected a decimal number.") }
        return decimal
    }

    private func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws -> Integer {
        guard case .number(let text) = value else { throw mismatch(type) }
        if let integer = Integer(text) { return integer }
        if let double = Double(text), let integer = Integer(exactly: double) { return integer }
        throw corrupted("Number \(text) does not fit in \(type).")
    }

    private func floatingPoint<Number: BinaryFloatingPoint & LosslessStringConvertible>(_ type: Number.Type) throws -> Number {
        guard case .number(let text) = value else { throw mismatch(type) }
        guard let number = Number(text), number.isFinite else { throw corrupted("Number \(text) does not fit in \(type).") }
        return number
    }

    private func mismatch(_ type: Any.Type) -> DecodingError {
        if case .null = value { return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Found null.")) }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type)."))
    }

    private func corrupted(_ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: description))
    }
}

/// A JSON object read by key; asking for a key in any way (even `contains` or `decodeIfPresent` for an absent one)
/// records it, and `allKeys` records that every key is known.
private struct ReplayKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let id: Int
    /// Member values by converted key; the first of duplicates wins, as in `JSONDecoder`.
    let values: [String: JSONValue]
    let codingPath: [any CodingKey]
    let record: KeyRecord

    var allKeys: [Key] {
        record.list(id)
        return values.keys.compactMap(Key.init(stringValue:))
    }

    func contains(_ key: Key) -> Bool {
        record.ask(key.stringValue, in: id)
        return values[key.stringValue] != nil
    }

    /// The decoder for the value at `key`, which must be there.
    private func child(_ key: some CodingKey) throws -> ReplayDecoder {
        record.ask(key.stringValue, in: id)
        guard let value = values[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value for key \(key.stringValue)."))
        }
        return ReplayDecoder(value: value, codingPath: codingPath + [key], record: record)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decode(type) }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try child(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decode(type) }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try child(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { superDecoder(at: ReplayKey.super) }

    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(at: key) }

    /// Like `JSONDecoder`, a missing key gives a decoder of `null` rather than an error.
    private func superDecoder(at key: some CodingKey) -> ReplayDecoder {
        record.ask(key.stringValue, in: id)
        return ReplayDecoder(value: values[key.stringValue] ?? .null, codingPath: codingPath + [key], record: record)
    }
}

/// A JSON array read in order; like `JSONDecoder`'s, it moves on only past an element that decoded.
private struct ReplayUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    let record: KeyRecord
    private(set) var currentIndex = 0

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var currentPath: [any CodingKey] { codingPath + [ReplayKey(intValue: currentIndex)] }

    private func checkNotAtEnd(_ type: Any.Type) throws {
        guard isAtEnd else { return }
        throw DecodingError.valueNotFound(type, .init(codingPath: currentPath, debugDescription: "Unkeyed container is at end."))
    }

    private mutating func next<Result>(_ type: Any.Type, _ decode: (ReplayDecoder) throws -> Result) throws -> Result {
        try checkNotAtEnd(type)
        let result = try decode(ReplayDecoder(value: elements[currentIndex], codingPath: currentPath, record: record))
        currentIndex += 1
        return result
    }

    /// Moves on only past a null, as the protocol requires.
    mutating func decodeNil() throws -> Bool {
        try checkNotAtEnd(Any?.self)
        guard case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try $0.decode(type) } }
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next(type) { try $0.decode(type) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) { try $0.decode(type) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(type) { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next((any Decoder).self) { $0 }
    }
}
