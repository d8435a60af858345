"""Users, referrals and payout destinations: the rules, without I/O.

A recruiter must be an active scout and never the user itself; the referral source says how the
link was made (`link`: a recruiter id from a referral link, `code`: a typed referral code, `admin`:
set or fixed by an admin, `none`). Re-pointing a recruiter must not create a cycle. Payout
destinations are stored in full (the payout pipeline needs them) and only ever shown masked, in API
answers and in the audit log alike. Buyers have none. A user is `active` or `suspended` (both ways,
by an admin) or `closed` (final).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from domain.platform.errors import DomainError

REFERRAL_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes
REFERRAL_CODE_LENGTH: Final = 10
REFERRAL_CODE_PATTERN: Final = re.compile(rf"^[{REFERRAL_CODE_ALPHABET}]{{{REFERRAL_CODE_LENGTH}}}$")

VPA_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}@[A-Za-z][A-Za-z0-9]{1,63}$")
IFSC_PATTERN: Final = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
ACCOUNT_NUMBER_PATTERN: Final = re.compile(r"^[0-9]{9,18}$")
ACCOUNT_NAME_PATTERN: Final = re.compile(r"^[A-Za-z][A-Za-z .'&-]{0,119}$")


class ReferralError(DomainError):
    """A referral that the rules refuse."""

    codes = frozenset({"referral_conflict", "recruiter_invalid", "referral_cycle"})


class UserChangeError(DomainError):
    """A change to a user's profile or status that the rules refuse."""

    codes = frozenset({"payout_destination_not_allowed", "user_closed"})


SHOWN_COLUMNS: Final = (
    "user_id",
    "role",
    "status",
    "name",
    "email",
    "phone",
    "referral_code",
    "recruiter_id",
    "referral_source",
    "payout_destination",
    "created_at",
    "updated_at",
)


def shown(user: Mapping[str, Any]) -> dict[str, Any]:
    """A user as the API shows it: its payout destination masked."""
    return {
        **{name: user[name] for name in SHOWN_COLUMNS},
        "payout_destination": mask_destination(user["payout_destination"]),
    }


def check_destination_allowed(role: str, destination: Mapping[str, str] | None) -> None:
    if role == "buyer" and destination is not None:
        raise UserChangeError(
            "payout_destination_not_allowed", "Buyers are not paid out: a buyer has no payout destination."
        )


def check_status_change(current: str) -> None:
    """`suspended` and `active` go both ways; `closed` is final."""
    if current == "closed":
        raise UserChangeError("user_closed", "The user is closed: it cannot be suspended or reactivated.")


def audited(user: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The named fields for the audit log: a destination masked there too, as only payouts need it whole."""
    return {name: mask_destination(user[name]) if name == "payout_destination" else user[name] for name in names}


@dataclass(frozen=True, slots=True)
class Recruiter:
    user_id: str
    role: str
    status: str


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_CODE_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def referral_source(recruiter_id: str | None, referral_code: str | None, requested: str | None) -> str:
    """The source to record for a registration; refuses contradictory input.

    A recruiter id comes from a referral link, a code was typed; `admin` is only set by the admin
    route, so a client cannot claim it.
    """
    if recruiter_id is not None and referral_code is not None:
        raise ReferralError("referral_conflict", "Give recruiter_id or referral_code, not both.")
    implied = "link" if recruiter_id is not None else "code" if referral_code is not None else "none"
    if requested is not None and requested != implied:
        raise ReferralError("referral_conflict", f"referral_source must be {implied!r} for this request.")
    return implied


def check_recruiter(user_id: str | None, recruiter: Recruiter | None) -> None:
    """An existing, active scout that is not the user."""
    if recruiter is None:
        raise ReferralError("recruiter_invalid", "The recruiter does not exist.")
    if recruiter.user_id == user_id:
        raise ReferralError("recruiter_invalid", "A user cannot recruit itself.")
    if recruiter.role != "scout" or recruiter.status != "active":
        raise ReferralError("recruiter_invalid", "The recruiter must be an active scout.")


def check_no_cycle(user_id: str, recruiter_chain: list[str]) -> None:
    """`recruiter_chain` is the new recruiter followed by its recruiters, upwards."""
    if user_id in recruiter_chain:
        raise ReferralError("referral_cycle", "The recruiter is already recruited, directly or not, by this user.")


class DestinationError(ValueError):
    """A payout destination that does not look like a VPA or an Indian bank account."""


def normalise_destination(destination: Mapping[str, str]) -> dict[str, str]:
    """Validate a `{"vpa"}` or `{"account_number", "ifsc", "account_name"}` destination."""
    keys = set(destination)
    if keys == {"vpa"}:
        vpa = destination["vpa"].strip()
        if not VPA_PATTERN.match(vpa):
            raise DestinationError("vpa must look like name@bank")
        return {"type": "vpa", "vpa": vpa.lower()}
    if keys == {"account_number", "ifsc", "account_name"}:
        number, ifsc = destination["account_number"].strip(), destination["ifsc"].strip().upper()
        name = destination["account_name"].strip()
        if not ACCOUNT_NUMBER_PATTERN.match(number):
            raise DestinationError("account_number must be 9 to 18 digits")
        if not IFSC_PATTERN.match(ifsc):
            raise DestinationError("ifsc must look like ABCD0123456")
        if not ACCOUNT_NAME_PATTERN.match(name):
            raise DestinationError("account_name must be letters, spaces and . ' & -")
        return {"type": "bank_account", "account_number": number, "ifsc": ifsc, "account_name": name}
    raise DestinationError("give either vpa, or account_number, ifsc and account_name")


def mask_destination(destination: Mapping[str, str] | None) -> dict[str, str] | None:
    """What an API response may show: enough to recognise the destination, not to reuse it."""
    if destination is None:
        return None
    if destination.get("type") == "vpa":
        handle, _, bank = destination["vpa"].partition("@")
        return {"type": "vpa", "vpa": f"{handle[:2]}{'*' * max(len(handle) - 2, 2)}@{bank}"}
    number = destination["account_number"]
    return {
        "type": "bank_account",
        "account_number": "X" * (len(number) - 4) + number[-4:],
        "ifsc": destination["ifsc"],
        "account_name": destination["account_name"],
    }
