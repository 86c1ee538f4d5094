import Foundation
import Hummingbird
import NIOCore
import TurnoCore

/// `/openapi.json` (the OpenAPI 3.1 contract, shipped with the binary) and `/docs` (a readable list of it).
struct APIDocumentation: Sendable {
    let document: Data

    init() throws {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw SettingsError("the OpenAPI document is missing from the installation")
        }
        document = try Data(contentsOf: url)
    }

    func add(to router: Router<TurnoRequestContext>) throws {
        let document = self.document
        let page = try Self.page(document)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
    }

    /// Every operation of the document, grouped by tag, as plain HTML.
    static func page(_ document: Data) throws -> String {
        guard let root = try JSONSerialization.jsonObject(with: document) as? [String: Any], let paths = root["paths"] as? [String: [String: Any]] else {
            throw SettingsError("the OpenAPI document cannot be read")
        }
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var byTag: [String: [String]] = [:]
        for (path, operations) in paths.sorted(by: { $0.key < $1.key }) {
            for (method, value) in operations.sorted(by: { $0.key < $1.key }) {
                guard let operation = value as? [String: Any] else { continue }
                let tag = (operation["tags"] as? [String])?.first ?? "other"
                // Sign-in is needed unless one of the listed requirements is empty (`{}`: anonymous callers allowed).
                let requirements = operation["security"] as? [[String: Any]]
                let secured = requirements.map { !$0.isEmpty && !$0.contains { $0.isEmpty } } == true ? #" <span class="badge">sign-in</span>"# : ""
                byTag[tag, default: []].append("<tr><td><code>\(method.uppercased())</code></td><td><code>\(escape(path))</code></td><td>\(escape(operation["summary"] as? String ?? ""))\(secured)</td></tr>")
            }
        }
        let sections = byTag.sorted { $0.key < $1.key }.map { tag, rows in
            #"<h2>\#(escape(tag))</h2><div class="table-wrap"><table class="table"><thead><tr><th>method</th><th>path</th><th>what it does</th></tr></thead><tbody>\#(rows.joined())</tbody></table></div>"#
        }.joined(separator: "\n")
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Turno API</title><link rel="icon" href="/assets/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/turno.css"></head>
            <body><header class="page-header"><a class="app-name" href="/">Turno</a></header><main class="site"><h1>Turno API</h1>
            <p>The full contract is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). <span class="badge">sign-in</span> needs <code>Authorization: Bearer</code>
            with an access token or an API key. Errors are <code>application/problem+json</code>.</p>
            \(sections)
            </main></body></html>
            """
    }
}
