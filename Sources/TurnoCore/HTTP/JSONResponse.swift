import Hummingbird
import NIOCore

extension Response {
    /// A JSON answer in the API's encoding (snake_case keys, ISO-8601 times) with any status, such as 201.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONCoding.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
