#include "dispatch/dispatcher.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "domain/notification_index.h"
#include "gatehouse/kernel/logging.h"

namespace gatehouse::notifier {

Dispatcher::Dispatcher(NotificationRuntime& notifications, const TemplateSet& templates, EmailTransport& email,
                       const kernel::TokenOpener& tokens, DispatchSettings settings, DispatchMetrics metrics)
    : notifications_(notifications),
      templates_(templates),
      email_(email),
      tokens_(tokens),
      settings_(std::move(settings)),
      metrics_(metrics) {}

Clock::time_point Dispatcher::next_attempt(Clock::time_point now, unsigned attempt) {
    const auto initial = settings_.backoff_initial.count();
    const auto cap = settings_.backoff_max.count();
    long long delay = initial;
    for (unsigned i = 1; i < attempt && delay < cap; ++i) {
        delay *= 2;
    }
    delay = std::min<long long>(delay, cap);
    std::uniform_int_distribution<long long> jitter(delay / 2, std::max<long long>(delay / 2, delay));
    return now + std::chrono::milliseconds(jitter(random_));
}

SendOutcome Dispatcher::deliver(const std::string& id, const NotificationState& notification, std::string& message_id) {
    const auto& queued = notification.queued;
    std::map<std::string, std::string> variables(queued.variables().begin(), queued.variables().end());
    if (!queued.link_path().empty()) {
        const auto token = tokens_.open(queued.sealed_token());
        if (!token) {
            return SendOutcome::permanent(
                "the one-time token cannot be opened with this notifier's key (sealed to another key?)");
        }
        variables["link"] = settings_.links_base_url + queued.link_path() + *token;
    }
    try {
        if (queued.channel() == v1::CHANNEL_CHAT) {
            const auto webhook = settings_.chat_webhooks.find(queued.recipient());
            if (webhook == settings_.chat_webhooks.end()) {
                return SendOutcome::permanent("no webhook configured for chat channel " + queued.recipient());
            }
            // {"text": ...} is what both Slack and Microsoft Teams incoming webhooks accept.
            const nlohmann::json post = {
                {"text", templates_.render_chat(queued.template_name(), queued.locale(), variables)}};
            return post_webhook(webhook->second, post.dump(), settings_.webhook_timeout);
        }
        const RenderedEmail rendered = templates_.render_email(queued.template_name(), queued.locale(), variables);
        OutgoingEmail email;
        email.message_id = "<" + id + "@" + settings_.message_id_domain + ">";
        email.from = settings_.from;
        email.to = queued.recipient();
        email.subject = rendered.subject;
        email.text = rendered.text;
        email.html = rendered.html;
        message_id = email.message_id;
        return email_.send(email);
    } catch (const std::exception& error) {
        return SendOutcome::permanent(std::string("cannot render: ") + error.what());
    }
}

std::size_t Dispatcher::dispatch_due(Clock::time_point now) { return dispatch_batch(now).attempted; }

void Dispatcher::dispatch_all_due() {
    // Each batch moves what it attempts out of the range (sent, dead-lettered, or due again later),
    // so this ends; a batch that attempted nothing (its entries changed meanwhile) leaves the rest
    // to the next poll rather than spin.
    for (;;) {
        const Batch batch = dispatch_batch(Clock::now());
        if (batch.found < std::max<std::size_t>(settings_.batch_size, 1) || batch.attempted == 0) {
            return;
        }
    }
}

Dispatcher::Batch Dispatcher::dispatch_batch(Clock::time_point now) {
    if (metrics_.queue_depth != nullptr) {
        metrics_.queue_depth->set(
            static_cast<double>(notifications_.count(notification_index::status_counter(NotificationStatus::queued))));
    }
    // The queued notifications due at or before `now`, oldest first: a range of the "due" index.
    const std::size_t limit = std::max<std::size_t>(settings_.batch_size, 1);
    const kernel::IndexKey until = notification_index::due_until(now);
    std::vector<std::string> due;
    notifications_.visit_index(
        notification_index::kDue, {}, {},
        [&](const kernel::IndexHit& hit) {
            due.push_back(hit.aggregate_id);
            return due.size() < limit;
        },
        &until);
    Batch batch;
    batch.found = due.size();
    auto log = kernel::logger("notifier");
    for (const auto& id : due) {
        const auto found = notifications_.find(id);
        if (!found || found->first.status != NotificationStatus::queued) {
            continue;
        }
        const NotificationState& notification = found->first;
        ++batch.attempted;
        std::string message_id;
        const auto started = std::chrono::steady_clock::now();
        const SendOutcome outcome = deliver(id, notification, message_id);
        if (metrics_.send_seconds != nullptr) {
            metrics_.send_seconds->observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        }
        const auto finished = Clock::now();
        const kernel::CommandContext context{
            .correlation_id = {}, .causation_id = notification.queued.cause_event_id(), .actor = "notifier"};
        if (outcome.kind == SendOutcome::Kind::delivered) {
            (void)notifications_.execute(id, RecordSent{message_id, email_.name(), finished}, context);
            if (metrics_.sent != nullptr) {
                metrics_.sent->increment();
            }
            log->info("sent {} ({}) to {}", id, notification.queued.template_name(),
                      notification.queued.channel() == v1::CHANNEL_CHAT ? "chat:" + notification.queued.recipient()
                                                                        : notification.queued.recipient());
            continue;
        }
        const unsigned attempt = notification.attempts + 1;
        const bool permanent = outcome.kind == SendOutcome::Kind::permanent;
        const bool last = permanent || attempt >= settings_.max_attempts;
        (void)notifications_.execute(
            id,
            RecordFailure{outcome.error, permanent, settings_.max_attempts, finished, next_attempt(finished, attempt)},
            context);
        if (metrics_.failed != nullptr) {
            metrics_.failed->increment();
        }
        if (last) {
            if (metrics_.dead_lettered != nullptr) {
                metrics_.dead_lettered->increment();
            }
            log->error("notification {} ({}) dead-lettered after {} attempts: {}", id,
                       notification.queued.template_name(), attempt, outcome.error);
        } else {
            if (metrics_.retried != nullptr) {
                metrics_.retried->increment();
            }
            log->warn("notification {} attempt {} failed, will retry: {}", id, attempt, outcome.error);
        }
    }
    return batch;
}

}  // namespace gatehouse::notifier
