import Foundation
import Hummingbird
import NIOCore

/// Static files read once from a folder and served revalidated by ETag (`Cache-Control: no-cache`): a new version
/// is picked up at once, an unchanged one costs a 304. The modules' page assets and `/docs`'s use it.
public struct AssetTable: Sendable {
    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
        public let etag: String
    }

    /// File name → asset.
    public let assets: [String: Asset]
    /// Changes whenever an asset changes, so that pages can ask for the new ones.
    public let version: String

    /// Every file in `folder`.
    public init(folder: URL) throws {
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            assets[name] = Asset(bytes: bytes, contentType: Self.contentType(of: name), etag: "\"\(Self.fingerprint(bytes))\"")
        }
        self.assets = assets
        version = Self.fingerprint(Array(assets.keys.sorted().compactMap { assets[$0]?.etag }.joined().utf8))
    }

    /// Serves the files at `prefix/{file}`; an unknown file is a 404 problem.
    public func addRoute(to router: Router<TurnoRequestContext>, under prefix: String) {
        router.get("\(prefix)/:file") { request, context -> Response in
            guard let name = context.parameters.get("file"), let response = response(name, request: request) else {
                throw Problem.notFound("there is no asset \(context.parameters.get("file") ?? "")")
            }
            return response
        }
    }

    /// The file `name`, or a 304 when the client's copy (`If-None-Match`) is current; nil when there is no such file.
    public func response(_ name: String, request: Request) -> Response? {
        guard let asset = assets[name] else { return nil }
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: [.eTag: asset.etag])
        }
        return Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes))
        )
    }

    /// FNV-1a: enough to tell versions of a file apart (not a security measure).
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "webmanifest": "application/manifest+json"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}
