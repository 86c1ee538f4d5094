import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TurnoCore

/// `/openapi.json` (the OpenAPI 3.1 contract, shipped with the binary), `/docs` (a readable rendering of it with a
/// "Try it" form per operation, see `APIDocumentationPage`) and that page's script and stylesheet under `/docs/assets/`.
struct APIDocumentation: Sendable {
    let document: Data
    /// `docs.js` and `docs.css`.
    let assets: AssetTable
    /// Rendered on the first request for it, then kept: it takes a noticeable share of a second, which every start
    /// (and every test server) would otherwise pay.
    let docsPage: RenderedOnce

    init() throws {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let folder = Bundle.module.url(forResource: "docs", withExtension: nil)
        else {
            throw SettingsError("the OpenAPI document or the /docs assets are missing from the installation")
        }
        let document = try Data(contentsOf: url)
        self.document = document
        docsPage = RenderedOnce { try Self.page(document) }
        assets = try AssetTable(folder: folder)
    }

    func add(to router: Router<TurnoRequestContext>) throws {
        router.get("/openapi.json", use: openAPIDocument)
        router.get("/docs", use: docs)
        assets.addRoute(to: router, under: "/docs/assets")
    }

    @Sendable func openAPIDocument(_ request: Request, context: TurnoRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }

    @Sendable func docs(_ request: Request, context: TurnoRequestContext) throws -> Response {
        let html = try docsPage.value()
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The `/docs` page for the OpenAPI document `document`, made on the first request for it.
    static func page(_ document: Data) throws -> String {
        try APIDocumentationPage(root: OpenAPIValue(parsing: document)).render()
    }
}

/// A text made by `make` the first time it is asked for, then kept (a failure is not kept: the next call tries again).
final class RenderedOnce: Sendable {
    private let make: @Sendable () throws -> String
    private let made = Mutex<String?>(nil)

    init(_ make: @escaping @Sendable () throws -> String) {
        self.make = make
    }

    func value() throws -> String {
        try made.withLock { made in
            if let made { return made }
            let text = try make()
            made = text
            return text
        }
    }
}
