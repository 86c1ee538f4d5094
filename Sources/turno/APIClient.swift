import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The JSON calls the client commands (`bench queues`, `loadgen sessions`) make to one running server, with a
/// bearer token: an access token from signing in, or an API key. It only ever talks to `base`.
final class APIClient: Sendable {
    let base: String
    private let client = HTTPClient(eventLoopGroupProvider: .singleton)
    private let token: Mutex<String?>

    /// `bearer` is an API key (or any token the server accepts); without one, call `signIn` first.
    init(base: String, bearer: String? = nil) {
        // "http://host:8080/" and "http://host:8080" name the same server; paths start with "/".
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        token = Mutex(bearer)
    }

    func signIn(username: String, password: String) async throws {
        let answer = try await post("/api/v1/auth/login", ["username": username, "password": password])
        guard let accessToken = answer["access_token"] as? String else { throw Failure("sign-in returned no access token") }
        token.withLock { $0 = accessToken }
    }

    /// The answer's body; a status other than 2xx is a `Failure` naming the request and what the server said.
    func send(_ method: HTTPMethod, _ path: String, json body: Data? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token = token.withLock({ $0 }) { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 16 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Failure("\(method.rawValue) \(path) answered \(response.status.code): \(String(buffer: data))")
        }
        return Data(data.readableBytesView)
    }

    /// POSTs `body` as JSON; the answer's JSON object, empty when it has no body.
    @discardableResult
    func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let data = try await send(.POST, path, json: try JSONSerialization.data(withJSONObject: body))
        guard !data.isEmpty else { return [:] }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    func shutdown() async throws {
        try await client.shutdown()
    }
}
