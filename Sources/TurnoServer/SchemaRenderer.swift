import Foundation
import TurnoCore

/// Turns the OpenAPI document's schemas into what `/docs` shows: HTML a person can read (nested field lists with each
/// field's type, whether it is required, its rules and its description) and example JSON values. `$ref`s are followed
/// within the document and `allOf` parts merged; a reference met again inside its own expansion is shown as a link to
/// its schema instead of being expanded again, so recursive schemas end.
struct SchemaRenderer {
    let root: OpenAPIValue
    /// Whether fields of a named schema show its fields too, or only link to its own section (the "Schemas" section,
    /// where every named schema has one, so nesting them again would repeat the page).
    var expandsNamedFields = true

    /// Deeper nesting is shown as links only, so the page keeps a reasonable size whatever the document holds.
    static let maximumDepth = 8
    /// Longer enums (the time zones) show their first values and a count: the full list is in /openapi.json.
    static let enumValuesShown = 12
    /// The prefix of the references that have a section of their own on the page.
    static let componentSchemaPrefix = "#/components/schemas/"

    /// A schema with its `$ref` followed and its `allOf` parts merged into one set of keywords.
    struct Resolved {
        /// The component schema it is (`Branch`): a reference, or a lone `allOf` of one (how a field adds a description).
        var name: String?
        var keywords: [(key: String, value: OpenAPIValue)]
        /// The reference is already being expanded further out: show its name, not its fields again.
        var isCycle = false
        /// The references expanded on the way here, which must not be expanded again below.
        var visiting: Set<String>

        subscript(key: String) -> OpenAPIValue? {
            keywords.first { $0.key == key }?.value
        }

        /// Adds `other`'s keywords under these: these win, except that properties and required fields add up.
        mutating func merge(_ other: [(key: String, value: OpenAPIValue)]) {
            for (key, value) in other {
                guard let index = keywords.firstIndex(where: { $0.key == key }) else {
                    keywords.append((key, value))
                    continue
                }
                switch (key, keywords[index].value, value) {
                case ("properties", .object(let mine), .object(let theirs)):
                    keywords[index].value = .object(mine + theirs.filter { member in !mine.contains { $0.key == member.key } })
                case ("required", .array(let mine), .array(let theirs)):
                    keywords[index].value = .array(mine + theirs.filter { name in !mine.contains { $0.string == name.string } })
                default:
                    break
                }
            }
        }

        /// The JSON types it allows (`type` as a word or a list), guessed from its other keywords when it has none.
        var types: [String] {
            if let type = self["type"]?.string { return [type] + (self["nullable"]?.bool == true ? ["null"] : []) }
            if let types = self["type"]?.array { return types.compactMap(\.string) }
            if self["properties"] != nil || self["additionalProperties"] != nil { return ["object"] }
            if self["items"] != nil { return ["array"] }
            if let literal = self["const"] ?? self["enum"]?.array?.first { return [SchemaRenderer.jsonType(of: literal)] }
            return []
        }
    }

    // MARK: References

    /// The value a local reference (`#/components/schemas/Branch`, a JSON pointer) points to.
    func value(at reference: String) -> OpenAPIValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var current = root
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = (String(token).removingPercentEncoding ?? String(token))
                .replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let elements = current.array, let index = Int(key), elements.indices.contains(index) {
                current = elements[index]
            } else if let member = current[key] {
                current = member
            } else {
                return nil
            }
        }
        return current
    }

    /// A response, parameter, request body, header or example with its `$ref` followed; the reference's own `summary` and
    /// `description` replace the target's, as OpenAPI 3.1 allows (a 404 that says what exactly was not found).
    func dereferenced(_ value: OpenAPIValue) -> OpenAPIValue {
        var current = value
        var overrides: [(key: String, value: OpenAPIValue)] = []
        // A chain of references is followed a few steps at most, so references to each other cannot loop.
        for _ in 0..<8 {
            guard let reference = current["$ref"]?.string, let target = self.value(at: reference) else { break }
            for member in current.members ?? [] where ["summary", "description"].contains(member.key) && !overrides.contains(where: { $0.key == member.key }) {
                overrides.append(member)
            }
            current = target
        }
        guard !overrides.isEmpty, var members = current.members else { return current }
        for override in overrides {
            if let index = members.firstIndex(where: { $0.key == override.key }) {
                members[index].value = override.value
            } else {
                members.append(override)
            }
        }
        return .object(members)
    }

    func resolve(_ schema: OpenAPIValue, visiting: Set<String> = []) -> Resolved {
        var result = Resolved(keywords: (schema.members ?? []).filter { $0.key != "$ref" && $0.key != "allOf" }, visiting: visiting)
        if let reference = schema["$ref"]?.string {
            if reference.hasPrefix(Self.componentSchemaPrefix) { result.name = String(reference.dropFirst(Self.componentSchemaPrefix.count)) }
            guard !visiting.contains(reference) else {
                result.isCycle = true
                return result
            }
            result.visiting.insert(reference)
            if let target = value(at: reference) {
                let inner = resolve(target, visiting: result.visiting)
                result.merge(inner.keywords)
                result.visiting.formUnion(inner.visiting)
            }
        }
        let parts = schema["allOf"]?.array ?? []
        for part in parts {
            let inner = resolve(part, visiting: result.visiting)
            if parts.count == 1, result.name == nil {
                result.name = inner.name
                result.isCycle = inner.isCycle
            }
            result.merge(inner.keywords)
            result.visiting.formUnion(inner.visiting)
        }
        return result
    }

    // MARK: HTML

    /// A body's schema: its type, rules and description, then its fields.
    func block(_ schema: OpenAPIValue) -> String {
        let resolved = resolve(schema)
        var html = #"<p class="schema-type">Type: <span class="field-type">\#(typeLabel(resolved))</span>"#
        let rules = rules(resolved)
        if !rules.isEmpty { html += #"; <span class="field-rules">\#(rules.joined(separator: "; "))</span>"# }
        html += "</p>"
        if let description = resolved["description"]?.string { html += #"<p class="field-description">\#(Self.prose(description))</p>"# }
        return html + fieldList(resolved, depth: 0)
    }

    /// The type in words, as HTML: `integer (int64)`, `array of Branch (object)`, `number or null`; a named schema links
    /// to its section of the page.
    func typeLabel(_ schema: Resolved) -> String {
        let base = schema.isCycle ? "" : baseType(schema)
        guard let name = schema.name else { return base.isEmpty ? "any" : base }
        let link = "<a href=\"#\(Self.schemaAnchor(name))\">\(SitePage.escape(name))</a>"
        return base.isEmpty ? link : "\(link) (\(base))"
    }

    private func baseType(_ schema: Resolved) -> String {
        let words = schema.types.map { type -> String in
            switch type {
            case "array":
                guard let items = schema["items"] else { return "array" }
                return "array of " + typeLabel(resolve(items, visiting: schema.visiting))
            case "string", "integer", "number":
                guard let format = schema["format"]?.string else { return type }
                return "\(type) (\(SitePage.escape(format)))"
            default:
                return SitePage.escape(type)
            }
        }
        if !words.isEmpty { return words.joined(separator: " or ") }
        if schema["oneOf"] != nil { return "one of the options below" }
        if schema["anyOf"] != nil { return "any of the options below" }
        return ""
    }

    /// The rules a value must follow, as short HTML phrases: "at least 1", "one of: a, b", "1 to 100 characters".
    func rules(_ schema: Resolved) -> [String] {
        guard !schema.isCycle else { return [] }
        var rules: [String] = []
        if let values = schema["enum"]?.array {
            let shown = values.prefix(Self.enumValuesShown).map(Self.literal).joined(separator: ", ")
            rules.append(values.count > Self.enumValuesShown ? "one of \(values.count) values such as \(shown)" : "one of: \(shown)")
        }
        if let value = schema["const"] { rules.append("always \(Self.literal(value))") }
        if let value = schema["default"] { rules.append("default \(Self.literal(value))") }
        for (keyword, words) in [("minimum", "at least"), ("exclusiveMinimum", "more than"), ("maximum", "at most"), ("exclusiveMaximum", "less than")] {
            // The 64-bit limits only restate that the field is a 64-bit integer.
            guard case .number(let bound) = schema[keyword], bound != String(Int64.min), bound != String(Int64.max) else { continue }
            rules.append("\(words) \(bound)")
        }
        if let range = Self.range(schema, "minLength", "maxLength", unit: "character") { rules.append(range) }
        if let range = Self.range(schema, "minItems", "maxItems", unit: "item") { rules.append(range) }
        if schema["uniqueItems"]?.bool == true { rules.append("no item twice") }
        if let multiple = schema["multipleOf"] { rules.append("a multiple of \(Self.literal(multiple))") }
        if let pattern = schema["pattern"]?.string { rules.append("matches <code>\(SitePage.escape(pattern))</code>") }
        if let contains = schema["contains"] {
            let item = resolve(contains, visiting: schema.visiting)
            rules.append("contains " + (item["const"].map(Self.literal) ?? typeLabel(item)))
        }
        if schema["additionalProperties"]?.bool == false, schema["properties"] != nil { rules.append("no other fields") }
        for (keyword, words) in [("readOnly", "read-only"), ("writeOnly", "write-only"), ("deprecated", "deprecated")] where schema[keyword]?.bool == true {
            rules.append(words)
        }
        if schema.types.contains("array"), let items = schema["items"] {
            // Rules of plain items (an enum's values) belong with the array; items with fields are listed below it instead.
            let item = resolve(items, visiting: schema.visiting)
            if !hasFields(item) { rules += self.rules(item).map { "each \($0)" } }
        }
        let alternatives = (schema["anyOf"] ?? schema["oneOf"])?.array ?? []
        if !alternatives.isEmpty, alternatives.allSatisfy(Self.onlyConstrains) {
            // Alternatives that only narrow the type (a pattern or a format) read best as one rule.
            let phrases = alternatives.map { alternative -> [String] in
                let resolved = resolve(alternative, visiting: schema.visiting)
                return ((resolved["format"]?.string).map { ["format \(SitePage.escape($0))"] } ?? []) + self.rules(resolved)
            }
            rules.append((schema["anyOf"] != nil ? "any of: " : "one of: ") + phrases.map { $0.joined(separator: ", ") }.joined(separator: "; or "))
        }
        return rules
    }

    /// The fields inside `schema` as a nested list; empty when it has none (a plain value, or a reference already being
    /// expanded further out).
    func fieldList(_ schema: Resolved, depth: Int) -> String {
        guard !schema.isCycle, depth < Self.maximumDepth, expandsNamedFields || depth == 0 || schema.name == nil else { return "" }
        if schema.types.contains("array"), let items = schema["items"] {
            // An array's items are listed where the array is: "array of Branch", then Branch's fields.
            return fieldList(resolve(items, visiting: schema.visiting), depth: depth + 1)
        }
        var entries: [String] = []
        let required = Set(schema["required"]?.array?.compactMap(\.string) ?? [])
        for (name, property) in schema["properties"]?.members ?? [] {
            // Only required fields are marked: the others are optional, and saying so on each would double the lists.
            let presence = required.contains(name) ? "required" : nil
            entries.append(
                field(
                    #"<code class="field-name">\#(SitePage.escape(name))</code>"#,
                    resolve(property, visiting: schema.visiting),
                    presence: presence,
                    depth: depth
                )
            )
        }
        if let extra = schema["additionalProperties"], extra.members != nil {
            // Fields with names of the caller's choosing (a map), listed as one entry for "every other name".
            var keyRules: [String] = []
            if let names = schema["propertyNames"] {
                let keys = resolve(names, visiting: schema.visiting)
                keyRules = ["names: " + typeLabel(keys)] + rules(keys)
            }
            entries.append(
                field(
                    #"<code class="field-name">{name}</code>"#,
                    resolve(extra, visiting: schema.visiting),
                    presence: "any number of these",
                    extraRules: keyRules,
                    depth: depth
                )
            )
        }
        let alternatives = (schema["oneOf"] ?? schema["anyOf"])?.array ?? []
        if !alternatives.allSatisfy(Self.onlyConstrains) {
            for (index, alternative) in alternatives.enumerated() {
                entries.append(field("option \(index + 1)", resolve(alternative, visiting: schema.visiting), presence: nil, depth: depth))
            }
        }
        return entries.isEmpty ? "" : #"<ul class="fields">\#(entries.joined())</ul>"#
    }

    /// Whether `fieldList` has anything to show for `schema`.
    private func hasFields(_ schema: Resolved) -> Bool {
        guard !schema.isCycle else { return false }
        if schema.types.contains("array"), let items = schema["items"] { return hasFields(resolve(items, visiting: schema.visiting)) }
        let alternatives = (schema["oneOf"] ?? schema["anyOf"])?.array ?? []
        return schema["properties"]?.members?.isEmpty == false || schema["additionalProperties"]?.members != nil
            || !alternatives.allSatisfy(Self.onlyConstrains)
    }

    private func field(_ name: String, _ schema: Resolved, presence: String?, extraRules: [String] = [], depth: Int) -> String {
        var html = #"<li>\#(name) <span class="field-type">\#(typeLabel(schema))</span>"#
        if let presence { html += #" <span class="\#(presence == "required" ? "field-required" : "field-presence")">\#(presence)</span>"# }
        let rules = extraRules + rules(schema)
        if !rules.isEmpty { html += #"<div class="field-rules">\#(rules.joined(separator: "; "))</div>"# }
        if let description = schema["description"]?.string { html += #"<div class="field-description">\#(Self.prose(description))</div>"# }
        return html + fieldList(schema, depth: depth + 1) + "</li>"
    }

    // MARK: Examples

    /// An example value: the schema's own `example` or `examples` when it has one, else one made up from its type and
    /// rules (an enum's first value, a date-time, a number within the bounds…), which the "Try it" form can send as is.
    func example(_ schema: OpenAPIValue, visiting: Set<String> = [], depth: Int = 0) -> OpenAPIValue {
        example(resolve(schema, visiting: visiting), depth: depth)
    }

    private func example(_ schema: Resolved, depth: Int) -> OpenAPIValue {
        guard !schema.isCycle, depth <= Self.maximumDepth else { return .null }
        if let given = schema["example"] ?? schema["examples"]?.array?.first ?? schema["const"] ?? schema["enum"]?.array?.first ?? schema["default"] {
            return given
        }
        if let first = (schema["oneOf"] ?? schema["anyOf"])?.array?.first {
            // The first option, with what the schema says around its options (`type: string` around a pattern).
            var option = resolve(first, visiting: schema.visiting)
            option.merge(schema.keywords.filter { $0.key != "oneOf" && $0.key != "anyOf" })
            return example(option, depth: depth + 1)
        }
        switch schema.types.first(where: { $0 != "null" }) ?? schema.types.first {
        case "object":
            var members = (schema["properties"]?.members ?? []).map { ($0.key, example($0.value, visiting: schema.visiting, depth: depth + 1)) }
            if members.isEmpty, let extra = schema["additionalProperties"], extra.members != nil {
                let name = schema["propertyNames"].flatMap { example($0, visiting: schema.visiting, depth: depth + 1).string } ?? "name"
                members = [(name, example(extra, visiting: schema.visiting, depth: depth + 1))]
            }
            return .object(members)
        case "array":
            return .array(schema["items"].map { [example($0, visiting: schema.visiting, depth: depth + 1)] } ?? [])
        case "string":
            return .string(Self.exampleString(schema))
        case "integer", "number":
            return Self.exampleNumber(schema)
        case "boolean":
            return .bool(true)
        case "null":
            return .null
        default:
            // Any JSON value at all: an empty object says "some JSON" best.
            return .object([])
        }
    }

    private static func exampleString(_ schema: Resolved) -> String {
        switch schema["format"]?.string {
        case "date-time": return "2026-11-30T09:00:00.000Z"
        case "date": return "2026-11-30"
        case "time": return "09:00:00"
        case "email": return "someone@example.com"
        case "uri", "url", "uri-reference": return "https://example.com/"
        case "uuid": return "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        case "ipv4": return "192.0.2.1"
        case "ipv6": return "2001:db8::1"
        default: break
        }
        var text = "string"
        if let pattern = schema["pattern"]?.string, let expression = try? NSRegularExpression(pattern: pattern) {
            // A placeholder the server accepts, when one of these common shapes fits the pattern (a time without a format).
            let candidates = ["string", "2026-11-30T09:00:00.000Z", "2026-11-30", "09:00:00", "1"]
            text = candidates.first { expression.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil } ?? text
        }
        if let minimum = schema["minLength"]?.double.map(Int.init), text.count < minimum {
            text = String(String(repeating: text, count: minimum / text.count + 1).prefix(minimum))
        }
        if let maximum = schema["maxLength"]?.double.map(Int.init), text.count > maximum { text = String(text.prefix(max(maximum, 0))) }
        return text
    }

    /// 1 when the bounds allow it, else the closest bound: "minimum or 1" without the 64-bit minimum as an example.
    private static func exampleNumber(_ schema: Resolved) -> OpenAPIValue {
        let minimum = schema["minimum"]?.double
        let maximum = schema["maximum"]?.double
        let above = schema["exclusiveMinimum"]?.double
        let below = schema["exclusiveMaximum"]?.double
        let allowsOne = (minimum ?? 1) <= 1 && (maximum ?? 1) >= 1 && (above ?? 0) < 1 && (below ?? 2) > 1
        if allowsOne { return .number("1") }
        if let lowest = schema["minimum"], (maximum ?? .infinity) >= (minimum ?? 0) { return lowest }
        if let above { return .number(number(above.rounded(.down) + 1)) }
        if let maximum = schema["maximum"] { return maximum }
        return .number(number((below ?? 1).rounded(.up) - 1))
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    // MARK: Helpers

    /// The anchor of a component schema's section.
    static func schemaAnchor(_ name: String) -> String {
        "schema-" + String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    /// Escapes text for an element's content (not an attribute): quotes stay, which keeps JSON examples readable and short.
    static func escapeText(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Text from the document as HTML: escaped, with `code` spans and line breaks kept.
    static func prose(_ text: String) -> String {
        let parts = SitePage.escape(text).components(separatedBy: "`")
        // An unpaired backtick is shown as it is rather than opening a code span that never ends.
        let html =
            parts.count % 2 == 1
            ? parts.enumerated().map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : $0.element }.joined()
            : parts.joined(separator: "`")
        return html.replacingOccurrences(of: "\n", with: "<br>")
    }

    /// A value as the page shows it in a rule: strings bare, anything else as JSON.
    static func literal(_ value: OpenAPIValue) -> String {
        "<code>\(SitePage.escape(value.string ?? value.json(pretty: false)))</code>"
    }

    static func jsonType(of value: OpenAPIValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number(let text): text.contains(where: { ".eE".contains($0) }) ? "number" : "integer"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// "1 to 100 characters", "at least 1 item", "at most 35 characters".
    private static func range(_ schema: Resolved, _ lowKeyword: String, _ highKeyword: String, unit: String) -> String? {
        let low = schema[lowKeyword]?.double.map(Int.init)
        let high = schema[highKeyword]?.double.map(Int.init)
        func counted(_ count: Int) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        switch (low, high) {
        case (let low?, let high?): return low == high ? "exactly \(counted(high))" : "\(low) to \(counted(high))"
        case (let low?, nil): return low == 0 ? nil : "at least \(counted(low))"
        case (nil, let high?): return "at most \(counted(high))"
        case (nil, nil): return nil
        }
    }

    /// An option of `anyOf`/`oneOf` that only narrows the value (a pattern, a format, bounds) rather than describing one.
    private static func onlyConstrains(_ option: OpenAPIValue) -> Bool {
        let narrowing: Set = ["pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "description"]
        return option.members?.allSatisfy { narrowing.contains($0.key) } == true
    }
}
