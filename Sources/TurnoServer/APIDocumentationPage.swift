import Foundation
import Hummingbird
import TurnoCore

/// The HTML of `/docs`, made once from the OpenAPI document: the operations grouped by tag, each a collapsible section
/// with its credentials, parameters, request body, responses (fields and examples) and a "Try it" form that `docs.js`
/// sends; then every named schema. The page has no inline script or style (its CSP allows neither) and nothing
/// from elsewhere: `/assets/turno.css` and its own `/docs/assets/` files.
struct APIDocumentationPage {
    let root: OpenAPIValue
    let schemas: SchemaRenderer
    /// For the "Schemas" section: fields of named schemas link to their sections instead of repeating them.
    let schemaSection: SchemaRenderer

    /// The methods an OpenAPI path item may hold; its other members (`parameters`, `summary`…) are not operations.
    static let methods: Set = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// One operation of the document, with what the page needs to place it.
    struct Operation {
        let method: String
        let path: String
        let value: OpenAPIValue
        /// The path item's parameters and the operation's own (which win), references followed.
        let parameters: [OpenAPIValue]
        let tag: String
        /// Its anchor, also the prefix of its form fields' ids.
        let id: String
    }

    init(root: OpenAPIValue) {
        self.root = root
        schemas = SchemaRenderer(root: root)
        schemaSection = SchemaRenderer(root: root, expandsNamedFields: false)
    }

    func render() throws -> String {
        guard let paths = root["paths"]?.members else { throw SettingsError("the OpenAPI document has no paths") }
        var operations: [Operation] = []
        var usedIDs: Set<String> = []
        for (path, item) in paths {
            let shared = (item["parameters"]?.array ?? []).map(schemas.dereferenced)
            for (method, value) in item.members ?? [] where Self.methods.contains(method) {
                let own = (value["parameters"]?.array ?? []).map(schemas.dereferenced)
                let parameters =
                    shared.filter { parameter in
                        !own.contains { $0["name"]?.string == parameter["name"]?.string && $0["in"]?.string == parameter["in"]?.string }
                    } + own
                var id = "op-" + Self.slug("\(method) \(path)")
                // Paths that differ only in punctuation would share an anchor.
                while usedIDs.contains(id) { id += "-2" }
                usedIDs.insert(id)
                let tag = value["tags"]?.array?.first?.string ?? "other"
                operations.append(Operation(method: method, path: path, value: value, parameters: parameters, tag: tag, id: id))
            }
        }
        // Tags in the order the paths first use them, unless the document lists every tag used (then in its order): a list
        // naming only some tags is there for their descriptions, not to put them first.
        var tags: [String] = []
        for operation in operations where !tags.contains(operation.tag) { tags.append(operation.tag) }
        let declared = (root["tags"]?.array ?? []).compactMap { $0["name"]?.string }
        if tags.allSatisfy(declared.contains) { tags = declared.filter(tags.contains) }

        let contents = tags.map { tag -> String in
            let count = operations.filter { $0.tag == tag }.count
            let counted = count == 1 ? "1 operation" : "\(count) operations"
            return "<li><a href=\"#\(Self.tagAnchor(tag))\">\(SitePage.escape(Self.title(tag)))</a> <span class=\"muted\">(\(counted))</span></li>"
        }.joined()
        let sections = tags.map { tag -> String in
            let anchor = Self.tagAnchor(tag)
            let description = (root["tags"]?.array ?? []).first { $0["name"]?.string == tag }?["description"]?.string
            return """
                <section class="docs-tag" id="\(anchor)" aria-labelledby="\(anchor)-title"><h2 id="\(anchor)-title">\(SitePage.escape(Self.title(tag)))</h2>
                \(description.map { "<p>\(SchemaRenderer.prose($0))</p>" } ?? "")
                \(operations.filter { $0.tag == tag }.map(operationHTML).joined(separator: "\n"))
                </section>
                """
        }.joined(separator: "\n")
        let info = root["info"]
        let title = info?["title"]?.string ?? "API"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SitePage.escape(title)) API</title>
            <link rel="icon" href="/assets/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/turno.css"><link rel="stylesheet" href="/docs/assets/docs.css">
            <script type="module" src="/docs/assets/docs.js"></script></head>
            <body class="page-docs"><header class="page-header"><a class="app-name" href="/">Turno</a></header>
            <main class="site docs">
            <h1>\(SitePage.escape(title)) API <span class="docs-version">version \(SitePage.escape(info?["version"]?.string ?? ""))</span></h1>
            \(info?["description"]?.string.map { "<p>\(SchemaRenderer.prose($0))</p>" } ?? "")
            <p>The full contract is <a href="/openapi.json">/openapi.json</a> (OpenAPI \(SitePage.escape(root["openapi"]?.string ?? "3.1"))). \
            Each operation below opens to show its parameters, its request and response bodies with examples, and a form to try it on this server.</p>
            \(credentialsHTML())
            <nav class="card docs-contents" aria-labelledby="contents-title"><h2 id="contents-title">Contents</h2><ul>\(contents)<li><a href="#schemas">Schemas</a></li></ul></nav>
            \(sections)
            \(schemaSectionHTML())
            </main></body></html>
            """
    }

    // MARK: Sections

    /// What the badges mean, the credentials the document knows, and the token "Try it" sends.
    private func credentialsHTML() -> String {
        let schemes = (root["components"]?["securitySchemes"]?.members ?? []).map { name, scheme -> String in
            "<li>\(schemeDescription(name, schemas.dereferenced(scheme)))</li>"
        }.joined()
        return """
            <section class="card docs-credentials" aria-labelledby="credentials-title"><h2 id="credentials-title">Credentials</h2>
            <p><span class="badge">sign-in</span> operations need credentials, <span class="badge">sign-in optional</span> ones do more with them, \
            <span class="badge ok">public</span> ones need none. Errors are <code>application/problem+json</code> (RFC 9457).</p>
            <ul>\(schemes)</ul>
            <div class="field" data-try-it hidden><label for="docs-token">Bearer token for “Try it”</label>
            <input id="docs-token" type="text" autocomplete="off" spellcheck="false" aria-describedby="docs-token-hint">
            <p class="hint" id="docs-token-hint">An access token or API key, sent as <code>Authorization: Bearer</code>. Kept in this tab only. \
            Without one, “Try it” uses your sign-in on this site, if any.</p></div>
            </section>
            """
    }

    /// Every named schema once, each collapsible, for the links in the field lists.
    private func schemaSectionHTML() -> String {
        let sections = (root["components"]?["schemas"]?.members ?? []).map { name, schema -> String in
            // The example starts from a reference to the schema, so a field that refers back to it ends there.
            let reference = OpenAPIValue.object([("$ref", .string(SchemaRenderer.componentSchemaPrefix + name))])
            let example = schemas.resolve(schema).types.contains("object") ? exampleHTML(schemas.example(reference).json(pretty: true)) : ""
            return """
                <details class="docs-schema" id="\(SchemaRenderer.schemaAnchor(name))"><summary><h3>\(SitePage.escape(name))</h3></summary>
                <div class="docs-schema-body">\(schemaSection.block(schema))\(example)</div></details>
                """
        }.joined(separator: "\n")
        return """
            <section class="docs-schemas" id="schemas" aria-labelledby="schemas-title"><h2 id="schemas-title">Schemas</h2>
            <p>The named schemas that the requests and answers above refer to.</p>
            \(sections)
            </section>
            """
    }

    private func operationHTML(_ operation: Operation) -> String {
        let value = operation.value
        let access = access(value)
        var body = ""
        if let description = value["description"]?.string {
            body += #"<div class="op-description">\#(description.components(separatedBy: "\n\n").map { "<p>\(SchemaRenderer.prose($0))</p>" }.joined())</div>"#
        }
        body += #"<p class="op-access">\#(access.sentence)</p>"#
        if !operation.parameters.isEmpty { body += "<h4>Parameters</h4>" + parametersHTML(operation) }
        var bodyExample: (contentType: String, text: String)?
        if let requestBody = value["requestBody"].map(schemas.dereferenced) {
            let (html, example) = requestBodyHTML(requestBody)
            body += "<h4>Request body</h4>" + html
            bodyExample = example
        }
        body += "<h4>Responses</h4>" + responsesHTML(value["responses"]?.members ?? [])
        body += tryItHTML(operation, body: bodyExample)
        let method = operation.method.uppercased()
        let methodClass = ["get", "post", "put", "patch", "delete"].contains(operation.method) ? operation.method : "other"
        let summary = value["summary"]?.string.map { #" <span class="op-summary">\#(SitePage.escape($0))</span>"# } ?? ""
        return """
            <details class="operation" id="\(operation.id)"><summary><h3 class="op-title"><span class="method method-\(methodClass)">\(method)</span> \
            <code class="op-path">\(SitePage.escape(operation.path))</code>\(summary) <span class="\(access.badgeClass)">\(access.badge)</span></h3></summary>
            <div class="op-body">\(body)</div></details>
            """
    }

    /// Whether an operation needs credentials: no requirement, or an empty one among them (`{}`), lets anonymous callers in.
    private func access(_ operation: OpenAPIValue) -> (badge: String, badgeClass: String, sentence: String) {
        let requirements = (operation["security"] ?? root["security"])?.array ?? []
        let names = requirements.flatMap { $0.members?.map(\.key) ?? [] }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let schemeList = names.map { name -> String in
            schemeDescription(name, root["components"]?["securitySchemes"]?[name].map(schemas.dereferenced) ?? .object([]))
        }.joined(separator: "; or ")
        if names.isEmpty { return ("public", "badge ok", "No credentials needed.") }
        if requirements.contains(where: { $0.members?.isEmpty == true }) { return ("sign-in optional", "badge", "Credentials optional: \(schemeList).") }
        return ("sign-in", "badge", "Credentials needed: \(schemeList).")
    }

    /// A security scheme in words: the header it is sent in and what to put there.
    private func schemeDescription(_ name: String, _ scheme: OpenAPIValue) -> String {
        var how = "<code>\(SitePage.escape(name))</code>"
        switch (scheme["type"]?.string, scheme["scheme"]?.string?.lowercased()) {
        case ("http", "bearer"?): how = "<code>Authorization: Bearer</code> (\(how))"
        case ("http", "basic"?): how = "<code>Authorization: Basic</code> (\(how))"
        case ("apiKey", _):
            how = "<code>\(SitePage.escape(scheme["name"]?.string ?? name))</code> in the \(SitePage.escape(scheme["in"]?.string ?? "header")) (\(how))"
        default: break
        }
        return how + (scheme["description"]?.string.map { ": " + SchemaRenderer.prose($0) } ?? "")
    }

    private func parametersHTML(_ operation: Operation) -> String {
        let rows = operation.parameters.map { parameter -> String in
            let schema = schemas.resolve(Self.schema(of: parameter) ?? .object([]))
            let rules = schemas.rules(schema)
            let type =
                #"<span class="field-type">\#(schemas.typeLabel(schema))</span>"#
                + (rules.isEmpty ? "" : #"<div class="field-rules">\#(rules.joined(separator: "; "))</div>"#)
            return """
                <tr><td><code>\(SitePage.escape(parameter["name"]?.string ?? ""))</code></td><td>\(SitePage.escape(parameter["in"]?.string ?? ""))</td>\
                <td>\(parameter["required"]?.bool == true ? "yes" : "no")</td><td>\(type)</td>\
                <td>\(parameter["description"]?.string.map(SchemaRenderer.prose) ?? "")</td></tr>
                """
        }.joined()
        return """
            <div class="table-wrap" role="region" tabindex="0" aria-label="Parameters of \(operation.method.uppercased()) \(SitePage.escape(operation.path))">\
            <table class="table parameters"><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Type</th>\
            <th scope="col">Description</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
    }

    /// The request body's HTML, and the example the "Try it" form starts from.
    private func requestBodyHTML(_ requestBody: OpenAPIValue) -> (html: String, example: (contentType: String, text: String)?) {
        var html = requestBody["description"]?.string.map { "<p>\(SchemaRenderer.prose($0))</p>" } ?? ""
        html += requestBody["required"]?.bool == true ? "<p>Required.</p>" : "<p>Optional.</p>"
        var formExample: (contentType: String, text: String)?
        for (contentType, media) in requestBody["content"]?.members ?? [] {
            html += #"<p class="content-type">Content type <code>\#(SitePage.escape(contentType))</code></p>"#
            if let schema = media["schema"] { html += schemas.block(schema) }
            if let example = example(of: media, contentType: contentType) {
                let text = Self.text(of: example, contentType: contentType)
                html += exampleHTML(text)
                if formExample == nil { formExample = (contentType, text) }
            }
        }
        return (html, formExample)
    }

    /// Successful answers in full (fields and example); errors, which usually share one schema, in a table.
    private func responsesHTML(_ responses: [(key: String, value: OpenAPIValue)]) -> String {
        var html = ""
        var shownBodies: [(content: String, status: String)] = []
        var errors: [(status: String, when: String, body: String)] = []
        for (status, reference) in responses {
            let response = schemas.dereferenced(reference)
            let description = response["description"]?.string.map(SchemaRenderer.prose) ?? ""
            let content = response["content"]?.members ?? []
            guard !(status == "default" || status.hasPrefix("4") || status.hasPrefix("5")) else {
                let body = content.map { contentType, media -> String in
                    let type = "<code>\(SitePage.escape(contentType))</code>"
                    guard let schema = media["schema"] else { return type }
                    // A named schema is a link to its section; an inline one is shown here.
                    return schema["$ref"] != nil ? "\(schemas.typeLabel(schemas.resolve(schema))) as \(type)" : type + schemas.block(schema)
                }.joined(separator: "<br>")
                errors.append((Self.statusLabel(status), description + headersHTML(response), body))
                continue
            }
            html += #"<div class="response"><h5>\#(Self.statusLabel(status))</h5><p>\#(description)</p>\#(headersHTML(response))"#
            // A body already shown (200 and 201 with the same ticket) is named, not repeated.
            let contentKey = response["content"]?.json(pretty: false) ?? ""
            if let earlier = shownBodies.first(where: { $0.content == contentKey }), !content.isEmpty {
                html += "<p>The same body as \(earlier.status).</p></div>"
                continue
            }
            shownBodies.append((contentKey, Self.statusLabel(status)))
            for (contentType, media) in content {
                html += #"<p class="content-type">Content type <code>\#(SitePage.escape(contentType))</code></p>"#
                if let schema = media["schema"] { html += schemas.block(schema) }
                if let example = example(of: media, contentType: contentType) { html += exampleHTML(Self.text(of: example, contentType: contentType)) }
            }
            html += "</div>"
        }
        guard let firstError = errors.first else { return html }
        // One body for every error (the Problem of this API) is said once, above the table, instead of in each row.
        let sharedBody = errors.allSatisfy { $0.body == firstError.body } ? firstError.body : nil
        if let sharedBody, !sharedBody.isEmpty { html += #"<div class="errors-body">Errors answer with \#(sharedBody)</div>"# }
        let rows = errors.map { error in
            "<tr><td>\(error.status)</td><td>\(error.when)</td>" + (sharedBody == nil ? "<td>\(error.body)</td>" : "") + "</tr>"
        }.joined()
        let bodyHeader = sharedBody == nil ? #"<th scope="col">Body</th>"# : ""
        return html + """
            <div class="table-wrap" role="region" tabindex="0" aria-label="Error responses"><table class="table">\
            <thead><tr><th scope="col">Status</th><th scope="col">When</th>\(bodyHeader)</tr></thead><tbody>\(rows)</tbody></table></div>
            """
    }

    /// The headers a response documents, as a list; empty without any.
    private func headersHTML(_ response: OpenAPIValue) -> String {
        let headers = (response["headers"]?.members ?? []).map { name, reference -> String in
            let header = schemas.dereferenced(reference)
            let schema = schemas.resolve(header["schema"] ?? .object([]))
            let rules = schemas.rules(schema)
            return "<li>Header <code>\(SitePage.escape(name))</code>: \(schemas.typeLabel(schema))"
                + (rules.isEmpty ? "" : "; " + rules.joined(separator: "; "))
                + (header["description"]?.string.map { " — " + SchemaRenderer.prose($0) } ?? "") + "</li>"
        }
        return headers.isEmpty ? "" : #"<ul class="response-headers">\#(headers.joined())</ul>"#
    }

    /// The form `docs.js` sends: the path, query and header parameters, and the body prefilled with its example.
    private func tryItHTML(_ operation: Operation, body: (contentType: String, text: String)?) -> String {
        var fields = ""
        for parameter in operation.parameters {
            guard let name = parameter["name"]?.string, let location = parameter["in"]?.string, ["path", "query", "header"].contains(location) else { continue }
            let id = "\(operation.id)-\(location)-\(Self.slug(name))"
            let required = parameter["required"]?.bool == true
            let schema = schemas.resolve(Self.schema(of: parameter) ?? .object([]))
            let attributes = #"id="\#(id)" data-in="\#(location)" data-name="\#(SitePage.escape(name))"\#(required ? " required" : "")"#
            var control: String
            let choices = schema["enum"]?.array ?? (schema.types.first == "boolean" ? [.bool(true), .bool(false)] : nil)
            if let choices, choices.count <= 50 {
                let options = choices.map { choice -> String in
                    let text = SitePage.escape(choice.string ?? choice.json(pretty: false))
                    return #"<option value="\#(text)">\#(text)</option>"#
                }.joined()
                control = #"<select \#(attributes)><option value="">\#(required ? "Choose…" : "(not sent)")</option>\#(options)</select>"#
            } else {
                let placeholder = schema["default"].map { #" placeholder="\#(SitePage.escape($0.string ?? $0.json(pretty: false)))""# } ?? ""
                control = #"<input type="text" \#(attributes) autocomplete="off" spellcheck="false"\#(placeholder)>"#
            }
            let note = location + (required ? ", required" : "")
            fields += #"<div class="field"><label for="\#(id)">\#(SitePage.escape(name)) <span class="muted">(\#(note))</span></label>\#(control)</div>"#
        }
        if let body {
            let rows = min(20, body.text.components(separatedBy: "\n").count + 1)
            fields += """
                <div class="field"><label for="\(operation.id)-body">Body <span class="muted">(\(SitePage.escape(body.contentType)))</span></label>\
                <textarea id="\(operation.id)-body" data-body data-content-type="\(SitePage.escape(body.contentType))" rows="\(rows)" spellcheck="false">\
                \(SchemaRenderer.escapeText(body.text))</textarea></div>
                """
        }
        let method = operation.method.uppercased()
        return """
            <section class="try-it" data-try-it hidden aria-labelledby="\(operation.id)-try"><h4 id="\(operation.id)-try">Try it</h4>
            <form class="try-form" data-method="\(method)" data-path="\(SitePage.escape(operation.path))">\(fields)\
            <button class="button primary" type="submit">Send request</button></form>
            <p class="try-status" role="status"></p><div class="try-answer" hidden></div></section>
            """
    }

    // MARK: Examples

    /// A body's example: the document's own (`example`, or the first of `examples`), else one made from the schema for JSON.
    private func example(of media: OpenAPIValue, contentType: String) -> OpenAPIValue? {
        if let example = media["example"] { return example }
        if let first = media["examples"]?.members?.first, let value = schemas.dereferenced(first.value)["value"] { return value }
        guard contentType.contains("json"), let schema = media["schema"] else { return nil }
        return schemas.example(schema)
    }

    private func exampleHTML(_ text: String) -> String {
        #"<figure class="example"><figcaption>Example</figcaption><pre tabindex="0"><code>\#(SchemaRenderer.escapeText(text))</code></pre></figure>"#
    }

    /// An example as it is sent: JSON as JSON, a text body (CSV, plain) as its text.
    private static func text(of example: OpenAPIValue, contentType: String) -> String {
        if !contentType.contains("json"), let text = example.string { return text }
        return example.json(pretty: true)
    }

    // MARK: Helpers

    /// A parameter's schema: `schema`, or the one of its first `content` type.
    private static func schema(of parameter: OpenAPIValue) -> OpenAPIValue? {
        parameter["schema"] ?? parameter["content"]?.members?.first?.value["schema"]
    }

    /// "201 Created", "4XX", "Any other status".
    private static func statusLabel(_ status: String) -> String {
        if status == "default" { return "Any other status" }
        guard let code = Int(status) else { return SitePage.escape(status) }
        return "\(code) \(reasonPhrases[code] ?? "")".trimmingCharacters(in: .whitespaces)
    }

    /// The reason phrases of the statuses an API like this one answers with (`HTTPResponse.Status(code:)` has none of its own).
    private static let reasonPhrases: [Int: String] = Dictionary(
        uniqueKeysWithValues: [
            HTTPResponse.Status.ok, .created, .accepted, .noContent, .movedPermanently, .found, .seeOther, .notModified, .temporaryRedirect,
            .permanentRedirect, .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .notAcceptable, .conflict, .gone,
            .preconditionFailed, .contentTooLarge, .unsupportedMediaType, .unprocessableContent, .preconditionRequired, .tooManyRequests,
            .internalServerError, .notImplemented, .badGateway, .serviceUnavailable, .gatewayTimeout,
        ].map { ($0.code, $0.reasonPhrase) }
    )

    /// A tag as a heading: "queues" → "Queues".
    private static func title(_ tag: String) -> String {
        tag.prefix(1).uppercased() + tag.dropFirst()
    }

    private static func tagAnchor(_ tag: String) -> String {
        "tag-" + slug(tag)
    }

    /// Lower-case letters and digits joined by single hyphens: "post /api/v1/queues/{queue}" → "post-api-v1-queues-queue".
    static func slug(_ text: String) -> String {
        text.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }.joined(separator: "-")
    }
}
