import Foundation
import Testing

/// Ticket numbers are the day's sequence per prefix: transfers, prefix changes and reused prefixes never make
/// two tickets with one number, and never stop a service from issuing.
@Suite("Ticket numbering")
struct TicketNumberingTests {
    @Test("transfers, transfers back, prefix changes and a reused prefix keep numbering per prefix", arguments: TestDatabase.available)
    func numberingAfterTransfers(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            func issue(_ service: Int64) async throws -> String {
                let issued = try await QueueAPITests.issue(server, service: service)
                #expect(issued.status == 201, "issuing for service \(service): \(issued.body)")
                return try #require(issued.ticket).number
            }
            #expect(try await issue(1) == "A001")
            #expect(try await issue(1) == "A002")
            let third = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            #expect(third.number == "A003")
            #expect(try await issue(2) == "B001")

            // A003, the last A ticket, moves to service B keeping its number: the next A ticket must still be issued.
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(third.id)/transfer", json: #"{"service":2}"#).status == 200)
            #expect(try await issue(1) == "A004")
            #expect(try await issue(2) == "B002")
            // And back again.
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(third.id)/transfer", json: #"{"service":1}"#).status == 200)
            #expect(try await issue(1) == "A005")
            #expect(try await issue(2) == "B003")

            // B becomes C mid-day: C starts at 1; A becomes B and continues B's numbers.
            #expect(try await admin.call(.PATCH, "/api/v1/services/2", json: #"{"prefix":"C"}"#).status == 200)
            #expect(try await issue(2) == "C001")
            #expect(try await admin.call(.PATCH, "/api/v1/services/1", json: #"{"prefix":"B"}"#).status == 200)
            #expect(try await issue(1) == "B004")

            // A deleted service's prefix taken by a new service the same day continues that prefix's numbers.
            let created = try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Loans","prefix":"D"}"#)
            #expect(created.status == 201)
            #expect(try await admin.call(.PATCH, "/api/v1/queues/1", json: #"{"services":[1,2,3]}"#).status == 200)
            #expect(try await issue(3) == "D001")
            #expect(try await admin.call(.DELETE, "/api/v1/services/3").status == 204)
            #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Mortgages","prefix":"D"}"#).status == 201)
            #expect(try await admin.call(.PATCH, "/api/v1/queues/1", json: #"{"services":[1,2,4]}"#).status == 200)
            #expect(try await issue(4) == "D002")
        }
    }
}
