#include "app/dispatcher.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "app/parallel_sends.h"
#include "domain/icalendar.h"
#include "domain/notification_index.h"
#include "gatehouse/kernel/logging.h"

namespace gatehouse::notifier {

Dispatcher::Dispatcher(NotificationRuntime& notifications, const TemplateSet& templates, EmailTransport& email,
                       const kernel::TokenOpener& tokens, DispatchSettings settings, DispatchMetrics metrics,
                       std::function<bool()> stopping)
    : notifications_(notifications),
      templates_(templates),
      email_(email),
      tokens_(tokens),
      settings_(std::move(settings)),
      metrics_(metrics),
      stopping_(std::move(stopping)),
      interrupted_([this] { return this->stopping(); }),
      backoff_(settings_.backoff_initial, settings_.backoff_max) {}

Clock::time_point Dispatcher::next_attempt(Clock::time_point now, unsigned attempt) {
    return backoff_.next_attempt(now, attempt);
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
            return post_webhook(webhook->second, post.dump(), settings_.webhook_timeout, interrupted_);
        }
        const RenderedEmail rendered = templates_.render_email(queued.template_name(), queued.locale(), variables);
        OutgoingEmail email;
        email.message_id = "<" + id + "@" + settings_.message_id_domain + ">";
        email.from = settings_.from;
        email.to = queued.recipient();
        email.subject = rendered.subject;
        email.text = rendered.text;
        email.html = rendered.html;
        if (queued.has_calendar()) {
            // The invitation itself: its DESCRIPTION is the text part, in the recipient's locale.
            email.calendar = render_icalendar(
                queued.calendar(),
                {.uid_domain = settings_.message_id_domain, .organizer = settings_.from, .description = rendered.text});
            email.calendar_method = queued.calendar().method();
        }
        message_id = email.message_id;
        return email_.send(email, interrupted_);
    } catch (const std::exception& error) {
        return SendOutcome::permanent(std::string("cannot render: ") + error.what());
    }
}

std::size_t Dispatcher::dispatch_due(Clock::time_point now) { return dispatch_batch(now).attempted; }

void Dispatcher::dispatch_all_due() {
    // Each batch moves what it attempts out of the range (sent, dead-lettered, or due again later),
    // so this ends; a batch that attempted nothing (its entries changed meanwhile) leaves the rest
    // to the next poll rather than spin.
    while (!stopping()) {
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

    // Each notification is attempted by one sender, and its outcome recorded by it: the runtime is
    // safe to call from any thread.
    batch.attempted = run_parallel_sends(
        due, settings_.parallelism, [this] { return stopping(); },
        [this](const std::string& id) { return attempt_one(id); });
    return batch;
}

bool Dispatcher::attempt_one(const std::string& id) {
    const auto found = notifications_.find(id);
    if (!found || found->state.status != NotificationStatus::queued) {
        return false;
    }
    auto log = kernel::logger("notifier");
    const NotificationState& notification = found->state;
    std::string message_id;
    const auto started = std::chrono::steady_clock::now();
    const SendOutcome outcome = deliver(id, notification, message_id);
    if (outcome.kind == SendOutcome::Kind::interrupted) {
        // Not an attempt: nothing is recorded, it stays queued and is sent at the next start.
        log->info("notification {} ({}): send abandoned, the service is stopping; it is sent at the next start", id,
                  notification.queued.template_name());
        return true;
    }
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
        return true;
    }
    const unsigned attempt = notification.attempts + 1;
    const bool permanent = outcome.kind == SendOutcome::Kind::permanent;
    const auto result = notifications_.execute(id,
                                               RecordFailure{.error = outcome.error,
                                                             .permanent = permanent,
                                                             .max_attempts = settings_.max_attempts,
                                                             .now = finished,
                                                             .next_attempt_at = next_attempt(finished, attempt),
                                                             .retry_for = settings_.retry_for},
                                               context);
    if (metrics_.failed != nullptr) {
        metrics_.failed->increment();
    }
    // Whether this was the last attempt is the decider's call: did it dead-letter?
    const auto* accepted = std::get_if<kernel::Accepted<v1::NotificationEvent>>(&result);
    if (accepted == nullptr) {
        log->warn("notification {}: the failed attempt was not recorded ({}): {}", id,
                  std::get<kernel::Rejection>(result).message, outcome.error);
        return true;
    }
    const bool dead = std::any_of(accepted->events.begin(), accepted->events.end(),
                                  [](const v1::NotificationEvent& event) { return event.has_dead_lettered(); });
    if (dead) {
        if (metrics_.dead_lettered != nullptr) {
            metrics_.dead_lettered->increment();
        }
        const auto queued_for =
            std::chrono::duration_cast<std::chrono::seconds>(finished - notification.retrying_since).count();
        const bool out_of_attempts = settings_.max_attempts > 0 && attempt >= settings_.max_attempts;
        log->error("notification {} ({}) dead-lettered after {} attempts in {} s ({}): {}", id,
                   notification.queued.template_name(), attempt, queued_for,
                   permanent         ? "refused for good"
                   : out_of_attempts ? "delivery.max_attempts used"
                                     : "retried for delivery.retry_for",
                   outcome.error);
    } else {
        if (metrics_.retried != nullptr) {
            metrics_.retried->increment();
        }
        log->warn("notification {} attempt {} failed, will retry: {}", id, attempt, outcome.error);
    }
    return true;
}

}  // namespace gatehouse::notifier
