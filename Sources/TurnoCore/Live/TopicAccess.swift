/// Who may follow which live topics. Topics a public screen or a customer needs (`branch:…`, and
/// `ticket:<token>`, whose token is the secret) are open; staff topics are not.
public enum TopicAccess {
    public static func allows(_ topic: String, _ principal: Principal?) -> Bool {
        if topic.hasPrefix("organization:") {
            // Staff account changes: only the organization's administrators.
            return principal?.role == .admin && topic == "organization:\(principal!.organizationID)"
        }
        return true
    }
}
