import Foundation
import HTTPTypes
import Hummingbird
import TurnoCore

/// `/sessions/users/{id}`: one athlete's statistics, charts and sessions, for signed-in staff; its assets under
/// `/sessions/assets/`. The page reads everything from the API, so it is rendered without data of its own.
struct SessionPages: Sendable {
    let renderer: PageRenderer
    let hub: LiveHub

    func add(to router: Router<TurnoRequestContext>) {
        router.get("/sessions/users/:id") { request, context -> Response in
            let userID = context.parameters.get("id") ?? ""
            guard let principal = context.principal, principal.viaSessionCookie else {
                let next = "/sessions/users/" + (userID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "")
                return Response(status: .seeOther, headers: [.location: "/login?next=\(next)"])
            }
            let language = PageRenderer.language(acceptLanguage: request.headers[.acceptLanguage])
            let data = [
                "user_id": JSONText.string(userID),
                "me": try JSONText.encode(IdentityRoutes.MeResponse(principal, csrfToken: context.csrfToken)),
            ]
            let html = renderer.render(
                page: "user", language: language, title: "\(userID) · \(renderer.text("sessions_title", language))",
                csrf: context.csrfToken, liveID: await hub.latestSequence, data: data
            )
            return PageRenderer.html(html)
        }
        router.get("/sessions/assets/:file") { request, context -> Response in
            guard let name = context.parameters.get("file"), let response = renderer.assetResponse(name, request: request) else {
                throw Problem.notFound("there is no asset \(context.parameters.get("file") ?? "")")
            }
            return response
        }
    }
}
