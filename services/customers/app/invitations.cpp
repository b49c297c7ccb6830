#include "app/invitations.h"

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::customers {
namespace {

std::string invitation_key(const std::string& token_hash) { return "invitation/" + hex(token_hash); }

}  // namespace

Invitations::Invitations(AppContext& context, const InvitationSettings& settings)
    : context_(context), ttl_(settings.ttl), sealer_(settings.notifier_public_key, "notifier.public_key") {}

v1::InvitationIssued Invitations::issue(const std::string& organization_id, const std::string& user_id,
                                        Clock::time_point expires_at) {
    const kernel::IssuedToken token = sealer_.issue();
    v1::InvitationIssued invitation;
    invitation.set_invitation_id(kernel::new_uuid_v7());
    invitation.set_token_sealed_for_notifier(token.sealed_for_notifier);
    *invitation.mutable_expires_at() = kernel::to_timestamp(expires_at);
    // The token's hash stays in this store: it names the link, durably, before the link exists.
    kernel::Commit commit;
    commit.metadata.emplace_back(invitation_key(token.hash),
                                 organization_id + "\n" + user_id + "\n" + invitation.invitation_id());
    (void)context_.store().commit(std::move(commit));
    return invitation;
}

v1::InvitationIssued Invitations::issue(const std::string& organization_id, const std::string& user_id) {
    return issue(organization_id, user_id, Clock::now() + ttl_);
}

std::optional<InvitationLink> Invitations::link(const std::string& token) const {
    const auto stored = context_.store().read_metadata(invitation_key(kernel::blake2b_256(token)));
    if (!stored) {
        return std::nullopt;
    }
    auto parts = split_lines(*stored);
    if (parts.size() != 3) {
        return std::nullopt;
    }
    return InvitationLink{std::move(parts[0]), std::move(parts[1]), std::move(parts[2])};
}

}  // namespace gatehouse::customers
