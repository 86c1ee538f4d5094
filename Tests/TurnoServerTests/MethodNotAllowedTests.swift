import Testing

/// A method a path does not take is 405 with the methods it does take; an unknown path stays 404.
@Suite("Methods not allowed")
struct MethodNotAllowedTests {
    @Test("a wrong method on a known path gets 405 with Allow; an unknown path gets 404")
    func wrongMethod() async throws {
        try await withTestServer { server in
            let put = try await server.request(.PUT, "/api/v1/queues/1")
            #expect(put.status == 405 && put.headers["Allow"].first == "DELETE, GET, HEAD, PATCH")
            #expect(put.headers["Content-Type"].first == "application/problem+json" && put.body.contains("use DELETE, GET, HEAD, PATCH"))
            let delete = try await server.request(.DELETE, "/api/v1/branches")
            #expect(delete.status == 405 && delete.headers["Allow"].first == "GET, HEAD, POST")
            #expect(try await server.request(.GET, "/api/v1/nothing-here").status == 404)
            #expect(try await server.request(.GET, "/api/v1/queues/1/call-next").status == 405)
        }
    }
}
