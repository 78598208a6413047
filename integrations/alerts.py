"""The alert digest: one e-mail (and an optional Slack-compatible webhook post) to a channel's contacts when a flow
turns red or stale or new issues open, at most one per ALERT_INTERVAL_MINUTES per channel.

The runner checks after every run that failed or opened issues; the health check, on every channel every 15
minutes by default, checks too, which is what notices a flow gone stale. A check that finds news claims the
channel's slot with one conditional UPDATE (healthchecks' alert sender): of two workers, the one whose UPDATE
changed the row sends, the other does nothing. News held back by the hourly limit goes out with the next digest:
issues are read since the last digest, and a flow stays in `alert_state` until it recovers.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from integrations.flow_health import FlowHealth, channel_flow_health
from integrations.http import ChannelError, HttpClient, RetryPolicy
from integrations.links import absolute, issue_url, issues_url, run_url, runs_url
from integrations.models import Channel, SyncIssue

log = logging.getLogger("integrations.alerts")
LISTED_ISSUES = 20


@dataclass
class Digest:
    """What a channel's contacts should look at."""

    channel: Channel
    red: list[FlowHealth] = field(default_factory=list)
    stale: list[FlowHealth] = field(default_factory=list)
    issues: list[SyncIssue] = field(default_factory=list)
    issue_count: int = 0

    @property
    def state(self) -> dict[str, list[str]]:
        return {"red": sorted(f.flow for f in self.red), "stale": sorted(f.flow for f in self.stale)}

    def news(self, previous: dict) -> bool:
        """Anything the last digest did not already say: a flow newly red or stale, or new issues."""
        state = self.state
        grew = any(set(state[kind]) - set(previous.get(kind, [])) for kind in state)
        return grew or bool(self.issue_count)

    @property
    def subject(self) -> str:
        parts = [f"{len(self.red)} flow(s) failing"] if self.red else []
        parts += [f"{len(self.stale)} flow(s) stale"] if self.stale else []
        parts += [f"{self.issue_count} new issue(s)"] if self.issue_count else []
        return f"[Switchyard] {self.channel.name}: {', '.join(parts)}"

    @property
    def text(self) -> str:
        lines = [f"{self.channel.name} ({self.channel.slug}) needs a look.", ""]
        if self.red:
            lines.append("Failing:")
            for health in self.red:
                since = f" since {_when(health.failing_since)}" if health.failing_since else ""
                lines.append(f"- {health.flow}: failed{since} — {health.run.error if health.run else ''}".rstrip(" —"))
                lines.append(f"  {absolute(run_url(health.run.pk))}" if health.run else "")
            lines.append("")
        if self.stale:
            lines.append("Stale (no successful run for three of its intervals):")
            for health in self.stale:
                last = _when(health.last_success) if health.last_success else "never"
                lines.append(f"- {health.flow}: last success {last}")
                lines.append(f"  {absolute(runs_url(self.channel.pk, health.flow))}")
            lines.append("")
        if self.issue_count:
            lines.append(f"New issues ({self.issue_count}):")
            for issue in self.issues:
                lines.append(f"- {issue.flow} · {issue.record_key}: {_one_line(issue.message)}")
                lines.append(f"  {absolute(issue_url(issue.pk))}")
            if self.issue_count > len(self.issues):
                lines.append(f"… and {self.issue_count - len(self.issues)} more")
            lines.append(f"All open issues: {absolute(issues_url(self.channel.pk))}")
        return "\n".join(line for line in lines if line is not None).strip() + "\n"


def alert_every() -> timedelta:
    return timedelta(minutes=settings.ALERT_INTERVAL_MINUTES)


def alert_digest(*, channel: Channel, now: datetime | None = None) -> Digest:
    """What is red, stale and newly in the issue queue for the channel (a handful of queries)."""
    now = now or timezone.now()
    digest = Digest(channel=channel)
    for health in channel_flow_health(channel=channel, now=now):
        if health.red:
            digest.red.append(health)
        elif health.stale:
            digest.stale.append(health)
    since = channel.alerted_at or now - alert_every()
    new = SyncIssue.objects.filter(channel=channel, status=SyncIssue.Status.OPEN, created_at__gt=since)
    digest.issues = list(new.order_by("-created_at")[:LISTED_ISSUES])
    digest.issue_count = len(digest.issues) if len(digest.issues) < LISTED_ISSUES else new.count()
    return digest


def alerts_send(*, channel: Channel, now: datetime | None = None) -> bool:
    """Send the channel's digest if there is news and its hourly slot is free; whether it was sent."""
    recipients = channel.contact_emails()
    if not recipients and not channel.alert_webhook_url:
        return False
    now = now or timezone.now()
    digest = alert_digest(channel=channel, now=now)
    previous = channel.alert_state or {}
    if not digest.news(previous):
        _forget_recovered(channel, previous, digest.state)
        return False
    free = Q(alerted_at__isnull=True) | Q(alerted_at__lte=now - alert_every())
    if not Channel.objects.filter(free, pk=channel.pk).update(alerted_at=now, alert_state=digest.state):
        return False  # sent within the hour (perhaps by another worker this very moment): the next one says it
    try:
        _deliver(channel, digest, recipients)
    except Exception:
        # Give the slot back so the next check tries again, rather than staying silent for an hour.
        log.exception("sending the alert digest of %s failed", channel.slug)
        Channel.objects.filter(pk=channel.pk, alerted_at=now).update(
            alerted_at=channel.alerted_at, alert_state=previous
        )
        return False
    channel.alerted_at, channel.alert_state = now, digest.state
    return True


def _deliver(channel: Channel, digest: Digest, recipients: list[str]) -> None:
    if recipients:
        send_mail(digest.subject, digest.text, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    if channel.alert_webhook_url:
        _post_webhook(channel, f"*{digest.subject}*\n{digest.text}")


def _post_webhook(channel: Channel, text: str) -> None:
    # One attempt: a webhook POST is not idempotent, and a repeated digest is worse than a late one.
    client = HttpClient(channel=f"{channel.slug} alert webhook", base_url=channel.alert_webhook_url,
                        retry=RetryPolicy(attempts=1), timeout=(5.0, 10.0))  # fmt: skip
    try:
        client.post(channel.alert_webhook_url, json_body={"text": text}, safe_to_retry=False)
    except ChannelError as exc:
        # A Slack webhook's path is its secret: say why it failed, never where it points.
        reason = f"the alert webhook of {channel.slug} failed: {exc.reason}" + (
            f" ({exc.status})" if exc.status else ""
        )
        if channel.contact_emails():
            log.warning("%s; the e-mail went out", reason)
            return
        raise ChannelError(reason) from None
    finally:
        client.close()


def _forget_recovered(channel: Channel, previous: dict, current: dict[str, list[str]]) -> None:
    """A flow that recovered leaves the state, so turning red again is news again."""
    kept = {kind: sorted(set(previous.get(kind, [])) & set(current[kind])) for kind in current}
    if kept != {kind: sorted(previous.get(kind, [])) for kind in current}:
        Channel.objects.filter(pk=channel.pk).update(alert_state=kept)
        channel.alert_state = kept


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[:199] + "…"
