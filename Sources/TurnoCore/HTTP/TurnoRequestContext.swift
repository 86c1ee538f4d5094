import Hummingbird
import HummingbirdWebSocket

/// The request context of every Turno route.
public struct TurnoRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The request id echoed in `X-Request-Id` and the access log.
    public var requestID: String = ""

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }

    public var requestDecoder: TurnoJSONDecoder { TurnoJSONDecoder() }

    /// `BodyLimitMiddleware` enforces the configured limit before any route reads the body.
    public var maxUploadSize: Int { .max }
}
