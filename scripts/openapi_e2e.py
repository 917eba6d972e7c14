"""An end-to-end flow through the Python client generated from /openapi.json (used by
scripts/openapi-contract.sh): sign up, sign in, create a processor and an activity that
uses it, list activities filtered by that processor, update the activity with If-Match,
export the register; then a data-subject request: record it, generate its checklist,
extend it, answer it, and list it by due date. Every answer is parsed into the generated
models.

    python3 openapi_e2e.py BASE_URL DIR_WITH_THE_GENERATED_PACKAGE
"""

import sys
import uuid

sys.path.insert(0, sys.argv[2])

from aura_client import AuthenticatedClient, Client  # noqa: E402
from aura_client.api.auth import login, register  # noqa: E402
from aura_client.api.registers import (  # noqa: E402
    create_activity,
    create_processor,
    export,
    get_activity,
    list_activities,
    update_activity,
)
from aura_client.api.requests import (  # noqa: E402
    answer_request,
    create_request,
    extend_request,
    generate_request_checklist,
    list_requests,
)
from aura_client.models import (  # noqa: E402
    ActivityBody,
    ActivityFieldsBody,
    ActivityList,
    AnswerRequestBody,
    DataSubjectRequestBody,
    DataSubjectRequestList,
    ExtendBody,
    LoginBody,
    ProcessorBody,
    ProcessorFieldsBody,
    RegisterExportBody,
    RegisterRequest,
    RegisterResponse,
    RequestFieldsBody,
    TokenResponse,
)

base = sys.argv[1]
PASSWORD = "contract-pass-2026-generated"
email = f"owner-{uuid.uuid4().hex[:8]}@contract.test"


def expect(response, status, model):
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert isinstance(response.parsed, model), (type(response.parsed), response.content[:500])
    return response.parsed


public = Client(base_url=base, raise_on_unexpected_status=True)
signed_up = expect(
    register.sync_detailed(
        client=public,
        body=RegisterRequest(
            organisation_name="Contract GmbH",
            email=email,
            full_name="Contract Owner",
            password=PASSWORD,
        ),
        idempotency_key=str(uuid.uuid4()),
    ),
    201,
    RegisterResponse,
)
tokens = expect(
    login.sync_detailed(client=public, body=LoginBody(email=email, password=PASSWORD)),
    200,
    TokenResponse,
)
client = AuthenticatedClient(
    base_url=base, token=tokens.access_token, raise_on_unexpected_status=True
)

processor = expect(
    create_processor.sync_detailed(
        client=client,
        body=ProcessorFieldsBody.from_dict(
            {"name": "Mail Inc.", "country": "US", "services": "newsletters"}
        ),
    ),
    201,
    ProcessorBody,
)
activity = expect(
    create_activity.sync_detailed(
        client=client,
        body=ActivityFieldsBody.from_dict(
            {
                "name": "Newsletter",
                "purposes": [{"description": "Send product news", "lawful_basis": "consent"}],
                "processor_ids": [str(processor.id)],
            }
        ),
    ),
    201,
    ActivityBody,
)
assert activity.processor_ids == [processor.id], activity.processor_ids
assert activity.version == 1 and activity.status == "draft", activity

# A second activity without the processor, so the filter has something to leave out.
expect(
    create_activity.sync_detailed(client=client, body=ActivityFieldsBody(name="Payroll")),
    201,
    ActivityBody,
)
page = expect(
    list_activities.sync_detailed(client=client, processor=str(processor.id)),
    200,
    ActivityList,
)
assert [a.id for a in page.items] == [activity.id], [a.name for a in page.items]

read = get_activity.sync_detailed(id=activity.id, client=client)
etag = read.headers["etag"]
assert etag == '"1"', etag
as_read = read.parsed.to_dict()
fields = ActivityFieldsBody.from_dict(
    {k: v for k, v in as_read.items() if k in ActivityFieldsBody.__annotations__}
    | {"status": "active", "department": "Marketing"}
)
updated = expect(
    update_activity.sync_detailed(id=activity.id, client=client, body=fields, if_match=etag),
    200,
    ActivityBody,
)
assert updated.version == 2 and updated.status == "active", updated
assert updated.department == "Marketing" and updated.processor_ids == [processor.id]
stale = update_activity.sync_detailed(id=activity.id, client=client, body=fields, if_match=etag)
assert stale.status_code == 409, stale.status_code

record = expect(export.sync_detailed(client=client, record="controller"), 200, RegisterExportBody)
exported = {a.id: a for a in record.activities}
assert activity.id in exported, list(exported)
assert [p.id for p in exported[activity.id].processors] == [processor.id]
assert [p.id for p in record.processors] == [processor.id]

request = expect(
    create_request.sync_detailed(
        client=client,
        body=RequestFieldsBody.from_dict(
            {
                "channel": "email",
                "subject": {"name": "Erika Mustermann", "email": "erika@example.org",
                            "category": "customer"},
                "rights": ["access", "erasure"],
            }
        ),
        idempotency_key=str(uuid.uuid4()),
    ),
    201,
    DataSubjectRequestBody,
)
assert request.reference.startswith("DSR-") and request.status == "received", request
assert request.due_on is not None and request.due_on == request.first_due_on, request
with_checklist = expect(
    generate_request_checklist.sync_detailed(id=request.id, client=client, if_match='"1"'),
    200,
    DataSubjectRequestBody,
)
assert len(with_checklist.checklist) > 0, with_checklist.checklist
extended = expect(
    extend_request.sync_detailed(
        id=request.id,
        client=client,
        body=ExtendBody(months=2, reasons="Records in several systems"),
        if_match='"2"',
    ),
    200,
    DataSubjectRequestBody,
)
assert extended.due_on > extended.first_due_on, (extended.due_on, extended.first_due_on)
answered = expect(
    answer_request.sync_detailed(
        id=request.id,
        client=client,
        body=AnswerRequestBody.from_dict({"outcome": "fulfilled"}),
        if_match='"3"',
    ),
    200,
    DataSubjectRequestBody,
)
assert answered.status == "answered" and answered.answered_in_time is True, answered
requests = expect(
    list_requests.sync_detailed(client=client, sort="due_on", status="answered"),
    200,
    DataSubjectRequestList,
)
assert [r.id for r in requests.items] == [request.id], requests.items

print(
    f"e2e through the generated client: tenant {signed_up.tenant.slug}, processor and "
    f"activity linked, filter found 1 of 2, update to version {updated.version} "
    f"(stale If-Match: 409), export with {len(record.activities)} activities; request "
    f"{request.reference} with {len(with_checklist.checklist)} checklist items, extended to "
    f"{extended.due_on}, answered in time"
)
