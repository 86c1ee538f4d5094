import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Gives each request an id (the client's `X-Request-Id` when it sends a sane one), echoes it in the
/// response and writes one access-log line per request: method, path, status and duration.
public struct AccessLogMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let supplied = request.headers[.requestID].flatMap { $0.count <= 64 && Topic.isValid($0) ? $0 : nil }
        context.requestID = supplied ?? Self.makeID()
        let start = ContinuousClock.now
        var status: HTTPResponse.Status = .internalServerError
        defer {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            logger.info(
                "request",
                metadata: [
                    "method": "\(request.method)",
                    "path": "\(request.uri.path)",
                    "status": "\(status.code)",
                    "ms": "\(String(format: "%.2f", milliseconds))",
                    "request_id": "\(context.requestID)",
                ]
            )
        }
        var response = try await next(request, context)
        status = response.status
        response.headers[.requestID] = context.requestID
        return response
    }

    static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 36)
    }
}

/// Turns every error into `application/problem+json` with a useful detail; nothing escapes as a bare 500.
public struct ProblemMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    let logger: Logger
    /// The routes, to tell a wrong method on a known path (405) from an unknown path (404).
    let routes: RouteTable

    public init(logger: Logger, routes: RouteTable) {
        self.logger = logger
        self.routes = routes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let violation as any RuleViolation {
            return try violation.problem.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound && Self.wantsPage(request) && routes.methods(for: request.uri.path).isEmpty {
            // A person who opened an unknown address in a browser gets a page, not a JSON document.
            return SitePage.notFound(language: SitePage.language(acceptLanguage: request.headers[.acceptLanguage]))
        } catch {
            return try Self.problem(for: error, request: request, logger: logger, requestID: context.requestID, routes: routes)
                .response(from: request, context: context)
        }
    }

    static func problem(for error: any Error, request: Request, logger: Logger, requestID: String, routes: RouteTable) -> Problem {
        switch error {
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                let allowed = routes.methods(for: request.uri.path)
                if !allowed.isEmpty {
                    return Problem(
                        .methodNotAllowed,
                        detail: "\(request.method) is not allowed on \(request.uri.path); use \(allowed.joined(separator: ", "))",
                        headers: [.allow: allowed.joined(separator: ", ")]
                    )
                }
                return .notFound("no route for \(request.method) \(request.uri.path)")
            case .badRequest:
                return .badRequest(error.body ?? "the request could not be read")
            case .contentTooLarge:
                return Problem(.contentTooLarge, detail: "the request body is larger than this server accepts")
            case .methodNotAllowed:
                return Problem(.methodNotAllowed, detail: "\(request.method) is not allowed on \(request.uri.path)")
            default:
                return Problem(error.status, detail: error.body ?? error.status.reasonPhrase, headers: error.headers)
            }
        case let error as any HTTPResponseError:
            return Problem(error.status, detail: error.status.reasonPhrase)
        case is DecodingError:
            return .badRequest(describe(error as! DecodingError))
        case let unavailable as DatabaseUnavailable:
            logger.warning("database unavailable", metadata: ["error": "\(unavailable.description)", "request_id": "\(requestID)"])
            return Problem(
                .serviceUnavailable,
                title: "Database unavailable",
                detail: "the database cannot be reached right now; try again in a few seconds (a retry with the same Idempotency-Key is safe)",
                headers: [.retryAfter: "5"]
            )
        case let reused as IdempotencyKeyReused:
            return .unprocessable("Idempotency-Key \(reused.key) was used in the last 24 hours with a different request; send a new key with a new request")
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, detail: "the request body is larger than this server accepts")
        default:
            // The full error, for whoever reads the log; a database error without its query, whose values may be secret.
            logger.error("unexpected error", metadata: ["error": "\(loggable(error))", "request_id": "\(requestID)"])
            return Problem(.internalServerError, detail: "an unexpected error occurred; quote request id \(requestID) when reporting it")
        }
    }

    /// A browser asking for a page: `GET` with `text/html` accepted, outside the API.
    static func wantsPage(_ request: Request) -> Bool {
        request.method == .get && !request.uri.path.hasPrefix("/api/") && request.headers[.accept]?.contains("text/html") == true
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, adding key: (any CodingKey)? = nil) -> String {
            let keys = (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the body" : "`" + keys.joined(separator: ".") + "`"
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context)) is not valid: \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context, adding: key)) is required"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(path(context)) must be \(describe(type))"
        @unknown default:
            return "the body could not be read"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a \(type)"
        }
    }
}

/// Refuses bodies larger than `--max-body` with 413, whether or not they announce their length.
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem(.contentTooLarge, detail: "the request body has \(length) bytes; this server accepts at most \(limit)")
        }
        var request = request
        if request.headers[.contentLength] == nil, request.headers[.transferEncoding] != nil {
            do {
                _ = try await request.collectBody(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw Problem(.contentTooLarge, detail: "the request body is larger than the \(limit) bytes this server accepts")
            }
        }
        return try await next(request, context)
    }
}

/// Headers that make browsers safer with every response.
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = TurnoRequestContext
    /// Served over TLS: tell browsers to keep using HTTPS.
    let strictTransport: Bool

    public init(strictTransport: Bool) {
        self.strictTransport = strictTransport
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        if strictTransport {
            response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains"
        }
        return response
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let lastEventID = Self("Last-Event-ID")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
    /// Makes a retried POST safe: the same key answers with what the first request made.
    public static let idempotencyKey = Self("Idempotency-Key")!
}
