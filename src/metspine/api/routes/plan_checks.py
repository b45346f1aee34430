"""Plan-check upload (multipart RTDOSE + RTSTRUCT), results and the DVH plot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from metspine.api.deps import Clinician, SettingsDep, StoreDep, Viewer
from metspine.api.plancheck import run_plan_check, sha256
from metspine.api.problems import Problem
from metspine.dosimetry.errors import DosimetryInputError
from metspine.model.validation import case_from_dict
from metspine.store import Store
from metspine.store.models import PlanCheckRow, User

router = APIRouter(tags=["plan checks"])


def check_out(row: PlanCheckRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "lesion_id": row.lesion_id,
        "fractions": row.fractions,
        "rtdose_sha256": row.rtdose_sha256,
        "rtstruct_sha256": row.rtstruct_sha256,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "dvh_png": f"/api/v1/cases/{row.case_id}/plan-checks/{row.id}/dvh.png",
        "result": row.result,
    }


async def read_limited(upload: UploadFile, field: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(1024 * 1024):
        total += len(chunk)
        if total > limit:
            raise Problem(413, f"{field}: the file is larger than {limit // (1024 * 1024)} MiB",
                          errors=[{"field": field, "message": "too large"}])  # fmt: skip
        chunks.append(chunk)
    if total == 0:
        raise Problem(
            422, f"{field}: the file is empty", errors=[{"field": field, "message": "empty"}]
        )
    return b"".join(chunks)


def upload_too_large(request: Request, limit: int) -> None:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > 2 * limit + 65536:
        raise Problem(413, f"the upload is larger than {2 * limit // (1024 * 1024)} MiB")


async def create_check(
    store: Store,
    user: User,
    case_id: str,
    rtdose: bytes,
    rtstruct: bytes,
    fractions: int,
    lesion_id: str | None,
    cord: str | None,
) -> PlanCheckRow:
    """Shared by the API and the web form."""
    case = case_from_dict(store.get_case(case_id).data)
    try:
        result, png = await run_in_threadpool(
            run_plan_check,
            case,
            store.policy,
            rtdose=rtdose,
            rtstruct=rtstruct,
            fractions=fractions,
            lesion_id=lesion_id,
            cord=cord,
        )
    except DosimetryInputError as exc:
        text = str(exc)
        field = text.split(":", 1)[0] if text.startswith(("lesion_id", "--")) else "rtdose/rtstruct"
        raise Problem(422, text, errors=[{"field": field.lstrip("-"), "message": text}]) from exc
    return store.add_plan_check(
        case_id,
        lesion_id=lesion_id,
        fractions=fractions,
        rtdose_sha256=sha256(rtdose),
        rtstruct_sha256=sha256(rtstruct),
        result=result,
        dvh_png=png,
        actor=user.username,
    )


@router.post("/cases/{case_id}/plan-checks", status_code=201)
async def upload_plan_check(
    case_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    user: Clinician,
    rtdose: Annotated[UploadFile, File(description="RTDOSE (DICOM)")],
    rtstruct: Annotated[UploadFile, File(description="RTSTRUCT (DICOM)")],
    fractions: Annotated[int, Form(ge=1, le=40)],
    lesion_id: Annotated[str | None, Form(max_length=64)] = None,
    cord: Annotated[str | None, Form(max_length=128)] = None,
) -> dict[str, Any]:
    upload_too_large(request, settings.max_upload_bytes)
    store.get_case(case_id)
    dose = await read_limited(rtdose, "rtdose", settings.max_upload_bytes)
    struct = await read_limited(rtstruct, "rtstruct", settings.max_upload_bytes)
    row = await create_check(store, user, case_id, dose, struct, fractions, lesion_id or None, cord)
    return check_out(row)


@router.get("/cases/{case_id}/plan-checks")
def list_plan_checks(case_id: str, store: StoreDep, user: Viewer) -> dict[str, Any]:
    return {"items": [check_out(r) for r in store.plan_checks(case_id)]}


@router.get("/cases/{case_id}/plan-checks/{check_id}")
def read_plan_check(case_id: str, check_id: int, store: StoreDep, user: Viewer) -> dict[str, Any]:
    return check_out(store.get_plan_check(case_id, check_id))


@router.get(
    "/cases/{case_id}/plan-checks/{check_id}/dvh.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def dvh_png(case_id: str, check_id: int, store: StoreDep, user: Viewer) -> Response:
    row = store.get_plan_check(case_id, check_id)
    if row.dvh_png is None:
        raise Problem(404, "this plan check has no DVH plot")
    return Response(row.dvh_png, media_type="image/png")
