import Foundation
import Hummingbird
import NIOFoundationCompat

/// Decodes JSON request bodies (snake_case keys, ISO-8601 dates) and explains exactly what is wrong
/// with a body that does not fit: which field is missing, has the wrong type, is null, or is not a field of the route
/// at all (a misspelt field would otherwise be ignored silently).
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
        } catch let null as NullField {
            throw Problem.unprocessable(null.detail)
        }
    }
}

/// Decodes any JSON value and remembers where its first null is: for routes that take a list of items and answer
/// for each item, so that a null in one item fails that item only.
public struct NullProbe: Decodable, Sendable {
    /// The path of the first null inside the value (`notes`), or nil when there is none.
    public let nullPath: String?

    /// Any key of a JSON object.
    public struct AnyKey: CodingKey {
        public var stringValue: String
        public var intValue: Int? { nil }
        public init(stringValue: String) { self.stringValue = stringValue }
        public init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let depth = decoder.codingPath.count
        func found(_ path: [any CodingKey]) -> String {
            path.dropFirst(depth).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            for key in object.allKeys {
                if try object.decodeNil(forKey: key) {
                    nullPath = found(object.codingPath + [key])
                    return
                }
                if let inner = try object.decode(NullProbe.self, forKey: key).nullPath {
                    nullPath = found(object.codingPath + [key]) + "." + inner
                    return
                }
            }
        } else if var array = try? decoder.unkeyedContainer() {
            while !array.isAtEnd {
                if try array.decodeNil() {
                    nullPath = "[\(array.currentIndex - 1)]"
                    return
                }
                _ = try array.decode(NullProbe.self)
            }
        } else if try decoder.singleValueContainer().decodeNil() {
            nullPath = ""
            return
        }
        nullPath = nil
    }
}

extension Request {
    /// The query parameter `name` as a positive whole number, nil when absent; 400 when it is something else.
    public func positiveNumber(query name: String) throws -> Int64? {
        guard let text = uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value > 0 else { throw Problem.badRequest("\(name) must be a positive whole number, got `\(text)`") }
        return value
    }
}
