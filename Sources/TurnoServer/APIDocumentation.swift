import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TurnoCore

/// `/openapi.json` (the OpenAPI 3.1 contract, shipped with the binary), `/docs` (a readable rendering of it with a
/// "Try it" form per operation, see `APIDocumentationPage`) and that page's script and stylesheet under `/docs/assets/`.
struct APIDocumentation: Sendable {
    let document: Data
    /// `docs.js` and `docs.css`, by file name.
    let assets: [String: Asset]
    /// Rendered on the first request for it, then kept: it takes a noticeable share of a second, which every start
    /// (and every test server) would otherwise pay.
    let docsPage: RenderedOnce

    /// A file under `/docs/assets/`. Served like the modules' assets (`PageRenderer.assetResponse`), whose loader this
    /// page cannot use: it expects a module's templates and strings, and the page is rendered here in Swift.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String
    }

    init() throws {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let folder = Bundle.module.url(forResource: "docs", withExtension: nil)
        else {
            throw SettingsError("the OpenAPI document or the /docs assets are missing from the installation")
        }
        let document = try Data(contentsOf: url)
        self.document = document
        docsPage = RenderedOnce { try Self.page(document) }
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            let contentType =
                name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : name.hasSuffix(".css") ? "text/css; charset=utf-8" : "application/octet-stream"
            assets[name] = Asset(bytes: bytes, contentType: contentType, etag: "\"\(Self.fingerprint(bytes))\"")
        }
        self.assets = assets
    }

    func add(to router: Router<TurnoRequestContext>) throws {
        router.get("/openapi.json", use: openAPIDocument)
        router.get("/docs", use: docs)
        router.get("/docs/assets/:file", use: asset)
    }

    @Sendable func openAPIDocument(_ request: Request, context: TurnoRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }

    @Sendable func docs(_ request: Request, context: TurnoRequestContext) throws -> Response {
        let html = try docsPage.value()
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    @Sendable func asset(_ request: Request, context: TurnoRequestContext) throws -> Response {
        guard let name = context.parameters.get("file"), let asset = assets[name] else {
            throw Problem.notFound("there is no asset \(context.parameters.get("file") ?? "")")
        }
        // Revalidated by ETag, as the other assets: a new version is picked up at once, an unchanged one costs a 304.
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: [.eTag: asset.etag])
        }
        return Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes))
        )
    }

    /// The `/docs` page for the OpenAPI document `document`, made on the first request for it.
    static func page(_ document: Data) throws -> String {
        try APIDocumentationPage(root: OpenAPIValue(parsing: document)).render()
    }

    /// FNV-1a, as `PageRenderer` tags its assets: enough to tell versions of a file apart (not a security measure).
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
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
