"""Failures on AWS reach people: an SNS topic that ALERT_EMAILS subscribe to, and
EventBridge rules that send it the failure states of the lake's Glue jobs
(FAILED, TIMEOUT, ERROR) and crawler (Failed).

The app's own alerts (``lake.alerts``) tell of runs as the app sees them;
these come from Glue itself, even when the app's worker is not polling.
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-glue.html
"""

import json
from typing import Any

from django.conf import settings

from lake.aws.clients import aws_client
from lake.aws.deploy.resource import TAG_KEY, TAG_VALUE, Resource
from lake.aws.names import GLUE_JOBS, crawler_name, job_name

JOB_FAILURES = ("FAILED", "TIMEOUT", "ERROR")
CRAWLER_FAILURES = ("Failed",)
TARGET_ID = "lake-alerts"
PENDING = "PendingConfirmation"  # a subscription whose owner has not confirmed yet


def topic_name() -> str:
    return f"{settings.GLUE_NAME_PREFIX}-alerts"


def topic_arn() -> str:
    account = aws_client("sts").get_caller_identity()["Account"]
    return f"arn:aws:sns:{settings.AWS_REGION}:{account}:{topic_name()}"


class AlertTopic(Resource):
    """The SNS topic, its policy (EventBridge may publish to it) and its email subscriptions."""

    kind = "SNS topic"

    def __init__(self) -> None:
        super().__init__(topic_name())

    def _policy(self, arn: str) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EventBridgeSendsTheLakesFailures",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": arn,
                }
            ],
        }

    def desired(self) -> dict[str, Any]:
        return {"Policy": self._policy(topic_arn()), "Emails": sorted(settings.ALERT_EMAILS)}

    def read(self) -> dict[str, Any] | None:
        sns = aws_client("sns")
        arn = topic_arn()
        try:
            attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except sns.exceptions.NotFoundException:
            return None
        return {"Policy": json.loads(attributes.get("Policy", "{}")), "Emails": self._emails(arn)}

    def _subscriptions(self, arn: str) -> list[dict[str, str]]:
        pages = aws_client("sns").get_paginator("list_subscriptions_by_topic")
        return [
            subscription
            for page in pages.paginate(TopicArn=arn)
            for subscription in page["Subscriptions"]
            if subscription["Protocol"] == "email"
        ]

    def _emails(self, arn: str) -> list[str]:
        return sorted({subscription["Endpoint"] for subscription in self._subscriptions(arn)})

    def create(self) -> None:
        sns = aws_client("sns")
        arn = sns.create_topic(
            Name=self.name,
            Attributes={"Policy": json.dumps(self._policy(topic_arn()))},
            Tags=[{"Key": TAG_KEY, "Value": TAG_VALUE}],
        )["TopicArn"]
        for email in sorted(settings.ALERT_EMAILS):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)

    def update(self, current: dict[str, Any]) -> None:
        sns = aws_client("sns")
        arn = topic_arn()
        desired = self.desired()
        if current["Policy"] != desired["Policy"]:
            sns.set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(desired["Policy"])
            )
        for email in sorted(set(desired["Emails"]) - set(current["Emails"])):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)
        for subscription in self._subscriptions(arn):
            # An unconfirmed subscription has no ARN to remove it by: it lapses in 3 days.
            unwanted = subscription["Endpoint"] not in desired["Emails"]
            if unwanted and subscription["SubscriptionArn"] != PENDING:
                sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])

    def delete(self) -> None:
        aws_client("sns").delete_topic(TopicArn=topic_arn())


class FailureRule(Resource):
    """An EventBridge rule sending a kind of Glue failure to the topic."""

    kind = "EventBridge rule"

    def __init__(self, name: str, description: str, pattern: dict[str, Any]) -> None:
        super().__init__(name)
        self.description = description
        self.pattern = pattern

    def desired(self) -> dict[str, Any]:
        return {
            "EventPattern": self.pattern,
            "State": "ENABLED",
            "Description": self.description,
            "Targets": [topic_arn()],
        }

    def read(self) -> dict[str, Any] | None:
        events = aws_client("events")
        try:
            rule = events.describe_rule(Name=self.name)
        except events.exceptions.ResourceNotFoundException:
            return None
        targets = events.list_targets_by_rule(Rule=self.name)["Targets"]
        return {
            "EventPattern": json.loads(rule.get("EventPattern", "{}")),
            "State": rule.get("State"),
            "Description": rule.get("Description", ""),
            "Targets": [target["Arn"] for target in targets],
        }

    def _put(self, *, tags: bool) -> None:
        events = aws_client("events")
        extra = {"Tags": [{"Key": TAG_KEY, "Value": TAG_VALUE}]} if tags else {}
        events.put_rule(
            Name=self.name,
            EventPattern=json.dumps(self.pattern),
            State="ENABLED",
            Description=self.description,
            **extra,
        )
        events.put_targets(Rule=self.name, Targets=[{"Id": TARGET_ID, "Arn": topic_arn()}])

    def create(self) -> None:
        self._put(tags=True)

    def update(self, current: dict[str, Any]) -> None:
        self._put(tags=False)

    def delete(self) -> None:
        events = aws_client("events")  # a rule with targets cannot be deleted
        events.remove_targets(Rule=self.name, Ids=[TARGET_ID])
        events.delete_rule(Name=self.name)


def failure_rules() -> list[FailureRule]:
    prefix = settings.GLUE_NAME_PREFIX
    return [
        FailureRule(
            f"{prefix}-job-failures",
            "The lake's Glue jobs failing, timing out or erring, to the alerts topic",
            {
                "source": ["aws.glue"],
                "detail-type": ["Glue Job State Change"],
                "detail": {
                    "jobName": [job_name(job) for job in GLUE_JOBS],
                    "state": list(JOB_FAILURES),
                },
            },
        ),
        FailureRule(
            f"{prefix}-crawler-failures",
            "The lake's raw crawler failing, to the alerts topic",
            {
                "source": ["aws.glue"],
                "detail-type": ["Glue Crawler State Change"],
                "detail": {"crawlerName": [crawler_name()], "state": list(CRAWLER_FAILURES)},
            },
        ),
    ]
