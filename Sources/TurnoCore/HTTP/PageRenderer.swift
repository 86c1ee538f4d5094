import Foundation
import Hummingbird
import Mustache
import NIOCore

/// Renders a module's pages from its mustache templates and the strings of each language, all loaded once from
/// the module's resources folder: `templates/*.mustache`, `strings/<language>.json`, `assets/*`.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// Language → key → text. Every text a page shows comes from here, for the server and (through the page data) the scripts.
    let strings: [String: [String: String]]
    /// The module's `assets/` folder; its version tags the pages' links, so browsers fetch new assets.
    public let assets: AssetTable

    public static let languages = ["en", "it"]
    public static let defaultLanguage = "en"

    /// `root` is the module's resources folder (`Bundle.module`'s), nil when the bundle is missing.
    public static func load(resources root: URL?, module: String) throws -> PageRenderer {
        guard let root else {
            throw ResourcesMissing("the \(module) pages' resources (turno_\(module).resources) are not next to the binary")
        }
        var library = MustacheLibrary()
        let templates = root.appendingPathComponent("templates")
        for file in try FileManager.default.contentsOfDirectory(atPath: templates.path) where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        var strings: [String: [String: String]] = [:]
        for language in languages {
            let data = try Data(contentsOf: root.appendingPathComponent("strings/\(language).json"))
            strings[language] = try JSONDecoder().decode([String: String].self, from: data)
        }
        return PageRenderer(library: library, strings: strings, assets: try AssetTable(folder: root.appendingPathComponent("assets")))
    }

    /// The language to use for a branch's language tag (`it-IT` → `it`): the closest there are strings for.
    public static func language(_ requested: String?) -> String {
        requested.flatMap { LanguageTag.closest(to: $0, among: languages) } ?? defaultLanguage
    }

    /// The first of the browser's `Accept-Language` choices that there are strings for.
    public static func language(acceptLanguage: String?) -> String {
        // `;` alone, or an empty choice, is malformed but must not stop the page: it names no language.
        let choices = (acceptLanguage ?? "").split(separator: ",").map { ($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces) }
        return choices.lazy.compactMap { LanguageTag.closest(to: $0, among: languages) }.first ?? defaultLanguage
    }

    public func text(_ key: String, _ language: String) -> String {
        strings[language]?[key] ?? strings[Self.defaultLanguage]?[key] ?? key
    }

    /// Renders `page` with the layout. `data` are JSON texts by field; the page's scripts read them, with the strings.
    /// `navigation` is the staff bar (``StaffNavigation``) on staff pages, nil on the public ones.
    public func render(page: String, language: String, title: String, csrf: String?, liveID: Int64, data: [String: String], navigation: String? = nil) -> String
    {
        let strings = self.strings[language] ?? [:]
        var fields = data
        fields["page"] = JSONText.string(page)
        fields["lang"] = JSONText.string(language)
        fields["live_id"] = String(liveID)
        fields["strings"] = JSONText.object(strings.mapValues(JSONText.string))
        var context: [String: Any] = [
            "lang": language, "title": title, "page": page, "t": strings, "version": assets.version,
            "data_json": JSONText.scriptSafe(JSONText.object(fields)),
        ]
        if let csrf { context["csrf"] = csrf }
        if let navigation { context["nav"] = navigation }
        return library.render(context, withTemplate: page) ?? ""
    }

    /// An HTML page that browsers must not cache (it shows live state).
    public static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    public func renderError(language: String, title: String, detail: String) -> String {
        library.render(["lang": language, "title": title, "detail": detail, "t": strings[language] ?? [:], "version": assets.version], withTemplate: "error")
            ?? ""
    }
}

public struct ResourcesMissing: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Small pieces of JSON text for page data, without a type per page.
public enum JSONText {
    public static func string(_ text: String) -> String {
        JSONCoding.quoted(text)
    }

    public static func object(_ fields: [String: String]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { "\(string($0.key)):\($0.value)" }.joined(separator: ",") + "}"
    }

    public static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    /// Inside a `<script>` element nothing may read as a closing tag or comment: `<` only appears in JSON strings,
    /// where `\u003c` means the same.
    public static func scriptSafe(_ json: String) -> String {
        json.replacingOccurrences(of: "<", with: "\\u003c")
    }
}
