import Foundation
import NIOHTTP1
import Testing
import TurnoCore

@testable import TurnoServer

@Suite("The OpenAPI contract")
struct OpenAPITests {
    @Test("every documented operation exists on the running server, and /docs lists them")
    func documentedRoutesExist() async throws {
        try await withTestServer { server in
            let response = try await server.request(.GET, "/openapi.json")
            #expect(response.status == 200)
            let root = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect(root["openapi"] as? String == "3.1.0")
            let paths = try #require(root["paths"] as? [String: [String: Any]])
            var checked = 0
            for (path, operations) in paths {
                for method in operations.keys {
                    let concrete = path.replacingOccurrences(of: #"\{[a-z]+\}"#, with: "1", options: .regularExpression)
                    // Live routes are asked without topics: a quick 400 shows they are served (an SSE stream would never end).
                    let answer = try await server.request(HTTPMethod(rawValue: method.uppercased()), concrete)
                    #expect(!answer.body.contains("no route for"), "\(method.uppercased()) \(path) is documented but not served")
                    checked += 1
                }
            }
            #expect(checked >= 45)
            let docs = try await server.request(.GET, "/docs")
            #expect(docs.status == 200 && docs.body.contains("/api/v1/queues/{queue}/call-next"))
        }
    }

    @Test("/docs shows an operation's body fields, responses and examples, with a form to try it, and serves its own assets")
    func documentationPage() async throws {
        try await withTestServer { server in
            let docs = try await server.request(.GET, "/docs")
            #expect(docs.status == 200)
            let ticket = try #require(Self.operation("op-post-api-v1-branches-branch-tickets", in: docs.body))
            #expect(
                ticket.contains(
                    #"<code class="field-name">service</code> <span class="field-type">integer (int64)</span> <span class="field-required">required</span>"#
                )
            )
            #expect(ticket.contains(#"<code class="field-name">class</code>"#) && ticket.contains("<code>regular</code>, <code>senior</code>"))
            #expect(ticket.contains("<h5>201 Created</h5>") && ticket.contains("<td>429 Too Many Requests</td>"))
            // Made from the schema: 1 is within the int64 bounds, an enum gives its first value; the form starts from it.
            let example = "{\n  \"service\": 1,\n  \"class\": \"regular\"\n}"
            #expect(ticket.contains("<pre tabindex=\"0\"><code>\(example)</code></pre>"))
            #expect(ticket.contains(#"data-content-type="application/json" rows="5" spellcheck="false">"# + example + "</textarea>"))
            #expect(ticket.contains(#"<form class="try-form" data-method="POST" data-path="/api/v1/branches/{branch}/tickets">"#))
            #expect(ticket.contains(#"<span class="badge">sign-in optional</span>"#))

            let login = try #require(Self.operation("op-post-api-v1-auth-login", in: docs.body))
            #expect(login.contains(#"<code class="field-name">username</code>"#) && login.contains(#"<code class="field-name">password</code>"#))
            #expect(login.contains("<h5>200 OK</h5>") && login.contains(#""token_type": "Bearer""#) && login.contains(#"<span class="badge ok">public</span>"#))

            let script = try await server.request(.GET, "/docs/assets/docs.js")
            #expect(script.status == 200 && script.headers["Content-Type"].first?.hasPrefix("text/javascript") == true && script.body.contains("X-CSRF-Token"))
            let etag = try #require(script.headers["ETag"].first)
            #expect(try await server.request(.GET, "/docs/assets/docs.js", headers: [("If-None-Match", etag)]).status == 304)
            #expect(try await server.request(.GET, "/docs/assets/docs.css").headers["Content-Type"].first?.hasPrefix("text/css") == true)
            #expect(try await server.request(.GET, "/docs/assets/nothing.js").status == 404)
        }
    }

    @Test("/docs escapes the document's text, ends recursive schemas, and prefers the document's own examples")
    func documentationOfADocument() throws {
        let document = #"""
            {"openapi": "3.1.0", "info": {"title": "T <&>", "version": "1"}, "paths": {"/nodes/{id}": {"post": {
              "summary": "Make <b>one</b> & more", "tags": ["nodes"], "security": [{"bearer": []}],
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 5}}],
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
              "responses": {"200": {"description": "Made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"},
                "example": {"given": "<yes>"}}}}, "404": {"$ref": "#/components/responses/Missing", "description": "No such node"}}}}},
             "components": {"responses": {"Missing": {"description": "Generic", "content": {"application/problem+json": {"schema": {"type": "object"}}}}},
              "schemas": {"Node": {"type": "object", "description": "A <node> & co", "required": ["at"], "properties": {
                "at": {"type": "string", "format": "date-time"}, "child": {"$ref": "#/components/schemas/Node"},
                "value": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}}}}
            """#
        let page = try APIDocumentation.page(Data(document.utf8))
        #expect(page.contains("Make &lt;b&gt;one&lt;/b&gt; &amp; more") && page.contains("A &lt;node&gt; &amp; co") && !page.contains("<b>one</b>"))
        #expect(page.contains(#"<span class="badge">sign-in</span></h3>"#) && page.contains("at least 5"))
        // The recursive field links to its schema instead of expanding again, and the generated example stops there too.
        #expect(page.contains(##"<code class="field-name">child</code> <span class="field-type"><a href="#schema-Node">Node</a></span>"##))
        #expect(page.contains("\"at\": \"2026-11-30T09:00:00.000Z\",\n  \"child\": null,\n  \"value\": \"string\""))
        #expect(page.contains("option 1") && page.contains("option 2"))
        #expect(page.contains("{\n  \"given\": \"&lt;yes&gt;\"\n}"))
        #expect(page.contains("<td>404 Not Found</td><td>No such node</td>"))
    }

    /// One operation's collapsible section of the `/docs` page.
    static func operation(_ id: String, in page: String) -> String? {
        guard let start = page.range(of: #"<details class="operation" id="\#(id)">"#) else { return nil }
        guard let end = page.range(of: "</details>", range: start.upperBound..<page.endIndex) else { return nil }
        return String(page[start.lowerBound..<end.upperBound])
    }
}
