// Set-password links (invitations and password resets): each token is sealed to the notifier
// (kernel::TokenSealer), which alone mails it; its hash, naming the organisation, user and
// invitation, stays in the store's metadata, never in an event (events go to Kafka). A log rebuilt
// from the topic therefore has no links: its users need new invitations. Safe on any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "app/app_context.h"
#include "gatehouse/kernel/sealed_token.h"

namespace gatehouse::customers {

struct InvitationSettings final {
    std::chrono::seconds ttl{72 * 3600};
    std::string notifier_public_key;  // base64url, as gatehouse-keygen prints it
};

// Whom a link's token was issued for.
struct InvitationLink final {
    std::string organization_id;
    std::string user_id;
    std::string invitation_id;
};

class Invitations final {
  public:
    Invitations(AppContext& context, const InvitationSettings& settings);

    // A new link for the user, valid until `expires_at`; its hash is durable before the link exists.
    v1::InvitationIssued issue(const std::string& organization_id, const std::string& user_id,
                               Clock::time_point expires_at);
    // ... valid for the invitation time to live from now.
    v1::InvitationIssued issue(const std::string& organization_id, const std::string& user_id);
    // Whom `token` was issued for, if it is one of ours (whether it is still the user's is the
    // Customer state's to say).
    [[nodiscard]] std::optional<InvitationLink> link(const std::string& token) const;
    [[nodiscard]] std::chrono::seconds ttl() const { return ttl_; }

  private:
    AppContext& context_;
    std::chrono::seconds ttl_;
    kernel::TokenSealer sealer_;
};

}  // namespace gatehouse::customers
