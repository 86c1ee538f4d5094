import Foundation
import Hummingbird
import NIOFoundationCompat

/// Decodes JSON request bodies (snake_case keys, ISO-8601 dates) and explains exactly what is wrong
/// with a body that does not fit: which field is missing, has the wrong type, or is not a field of the route at all
/// (a misspelt field would otherwise be ignored silently).
public struct TurnoJSONDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        do {
            return try StrictJSON.decode(T.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw Problem.badRequest(ProblemMiddleware.describe(error))
        } catch let unknown as UnknownField {
            throw Problem.unprocessable(unknown.detail)
        }
    }
}
