import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TurnoCore

/// Signs in and calls the API as a staff user, the way a client application would.
struct StaffClient {
    let server: TestServer
    var accessToken: String
    var refreshToken: String

    struct Tokens: Decodable {
        let access_token: String
        let refresh_token: String
        let expires_in: Int
    }

    static func login(_ server: TestServer, _ username: String, _ password: String) async throws -> StaffClient {
        let response = try await server.request(
            .POST,
            "/api/v1/auth/login",
            body: #"{"username":"\#(username)","password":"\#(password)"}"#,
            headers: [("Content-Type", "application/json")]
        )
        guard response.status == 200 else { throw SettingsError("login as \(username) answered \(response.status): \(response.body)") }
        let tokens = try JSONDecoder().decode(Tokens.self, from: Data(response.body.utf8))
        return StaffClient(server: server, accessToken: tokens.access_token, refreshToken: tokens.refresh_token)
    }

    static func admin(_ server: TestServer) async throws -> StaffClient {
        try await login(server, "admin", TestServer.adminPassword)
    }

    func call(
        _ method: HTTPMethod,
        _ path: String,
        json body: String? = nil,
        headers extra: [(String, String)] = [],
        timeout: Int64 = 10
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var headers = [("Authorization", "Bearer \(accessToken)")] + extra
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await server.request(method, path, body: body, headers: headers, timeout: timeout)
    }

    /// Creates an API key with `scopes` and returns it (`tk_…`).
    func createAPIKey(name: String = "app", scopes: [String]) async throws -> String {
        let scopeList = scopes.map { "\"\($0)\"" }.joined(separator: ",")
        let response = try await call(.POST, "/api/v1/api-keys", json: #"{"name":"\#(name)","scopes":[\#(scopeList)]}"#)
        guard response.status == 201 else { throw SettingsError("creating key \(name) answered \(response.status): \(response.body)") }
        struct Created: Decodable { let key: String }
        return try JSONDecoder().decode(Created.self, from: Data(response.body.utf8)).key
    }

    /// Creates a staff user and signs in as them.
    func createUser(
        _ username: String,
        role: Role,
        branches: [Int64] = [],
        password: String = "password-\(UUID().uuidString.prefix(8))"
    ) async throws -> (id: Int64, client: StaffClient) {
        let response = try await call(
            .POST,
            "/api/v1/users",
            json: #"{"username":"\#(username)","password":"\#(password)","role":"\#(role.rawValue)","branch_ids":\#(branches)}"#
        )
        guard response.status == 201 else { throw SettingsError("creating \(username) answered \(response.status): \(response.body)") }
        struct Created: Decodable { let id: Int64 }
        let id = try JSONDecoder().decode(Created.self, from: Data(response.body.utf8)).id
        return (id, try await StaffClient.login(server, username, password))
    }
}

/// Signs in through the sign-in form, as a browser does, and returns the session cookie (`turno_session=…`).
func pageSessionCookie(_ server: TestServer, _ username: String, _ password: String) async throws -> String {
    let form = try await server.request(.GET, "/login")
    guard let loginCookie = form.headers["Set-Cookie"].first(where: { $0.hasPrefix("turno_login_csrf=") }) else {
        throw SettingsError("the sign-in form set no CSRF cookie")
    }
    let token = String(loginCookie.dropFirst("turno_login_csrf=".count).prefix { $0 != ";" })
    let body = "username=\(username)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password)&csrf_token=\(token)"
    let signedIn = try await server.request(
        .POST,
        "/login",
        body: body,
        headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "turno_login_csrf=\(token)")]
    )
    guard let session = signedIn.headers["Set-Cookie"].first(where: { $0.hasPrefix("turno_session=") }) else {
        throw SettingsError("signing in as \(username) answered \(signedIn.status)")
    }
    return String(session.prefix { $0 != ";" })
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ body: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(body.utf8))
}

/// Any JSON value, for comparing a whole answer with the one expected, whatever its spacing or key order.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// A page of `/api/v1/audit`.
struct AuditPage: Decodable {
    struct Entry: Decodable {
        let id: Int64
        let at: String
        let actor: String
        let action: String
        let target: String
        let detail: [String: String]
        let address: String
    }
    let items: [Entry]
    let next_cursor: String?
}

extension StaffClient {
    /// The audit entries `/api/v1/audit?{query}` answers (its first page).
    func audit(_ query: String = "") async throws -> [AuditPage.Entry] {
        let response = try await call(.GET, "/api/v1/audit" + (query.isEmpty ? "" : "?\(query)"))
        guard response.status == 200 else { throw SettingsError("the audit trail answered \(response.status): \(response.body)") }
        return try decodeJSON(AuditPage.self, response.body).items
    }
}
