import Foundation
import Hummingbird

/// An error answer in the RFC 9457 format (`application/problem+json`): every failed request gets one.
public struct Problem: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// A short, stable summary of the kind of problem.
    public var title: String
    /// What exactly went wrong with this request, and how to put it right.
    public var detail: String
    /// Extra headers, such as `Retry-After` or `Allow`.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, title: String? = nil, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.headers = headers
    }

    /// `about:blank` types: the status and title say what kind of problem it is (RFC 9457, section 4.2.1).
    public var type: String { "about:blank" }

    public static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail: detail) }
    public static func notFound(_ detail: String) -> Problem { Problem(.notFound, detail: detail) }
    public static func conflict(_ detail: String) -> Problem { Problem(.conflict, detail: detail) }
    public static func unprocessable(_ detail: String) -> Problem { Problem(.unprocessableContent, detail: detail) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        let body = #"{"type":"\#(type)","title":\#(JSONCoding.quoted(title)),"status":\#(status.code),"detail":\#(JSONCoding.quoted(detail))}"#
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
