"""``lake deploy`` sends Glue's own failures to people: an SNS topic with the
ALERT_EMAILS subscribed, and EventBridge rules for the jobs' and crawler's
failure states (on moto's server)."""

import json

from lake.aws.clients import aws_client
from lake.aws.deploy.plan import plan_apply
from lake.aws.deploy.stack import deploy_plan, destroy_plan

TOPIC = "arn:aws:sns:us-east-1:123456789012:sakila-lake-alerts"


def subscribed() -> list[str]:
    answer = aws_client("sns").list_subscriptions_by_topic(TopicArn=TOPIC)
    return sorted(s["Endpoint"] for s in answer["Subscriptions"] if s["Protocol"] == "email")


def rule(name: str) -> tuple[dict, list[str]]:
    events = aws_client("events")
    pattern = json.loads(events.describe_rule(Name=name)["EventPattern"])
    targets = [target["Arn"] for target in events.list_targets_by_rule(Rule=name)["Targets"]]
    return pattern, targets


def test_glue_failures_go_to_a_topic_the_alert_emails_subscribe_to(deploy_settings, settings):
    settings.ALERT_EMAILS = ["ops@example.com", "lake@example.com"]

    plan_apply(deploy_plan())

    policy = json.loads(
        aws_client("sns").get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert (statement["Action"], statement["Resource"]) == ("sns:Publish", TOPIC)
    assert subscribed() == ["lake@example.com", "ops@example.com"]
    jobs, targets = rule("sakila-lake-job-failures")
    assert jobs == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {
            "jobName": ["sakila-lake-extract", "sakila-lake-marts"],
            "state": ["FAILED", "TIMEOUT", "ERROR"],
        },
    }
    assert targets == [TOPIC]
    crawler, targets = rule("sakila-lake-crawler-failures")
    assert crawler["detail"] == {"crawlerName": ["sakila-lake-raw"], "state": ["Failed"]}
    assert targets == [TOPIC]
    assert {action.kind for action in deploy_plan().actions} == {"unchanged"}

    settings.ALERT_EMAILS = ["lake@example.com", "new@example.com"]
    plan = deploy_plan()
    (update,) = [action for action in plan.actions if action.kind == "update"]
    assert str(update.resource) == "SNS topic sakila-lake-alerts"
    plan_apply(plan)
    # moto confirms subscriptions at once; AWS waits for the owner to confirm, and
    # keeps an unconfirmed one (it cannot be removed) until it lapses.
    assert subscribed() == ["lake@example.com", "new@example.com"]

    plan_apply(destroy_plan())

    assert aws_client("sns").list_topics()["Topics"] == []
    assert aws_client("events").list_rules(NamePrefix="sakila-lake")["Rules"] == []
