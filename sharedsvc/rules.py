"""Role predicates (django-rules) shared by every app's permissions."""

import rules


@rules.predicate
def signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


@rules.predicate
def is_administrator(user) -> bool:
    return bool(user and user.is_authenticated and user.is_administrator)


@rules.predicate
def is_analyst(user) -> bool:
    return bool(user and user.is_authenticated and user.is_analyst)


@rules.predicate
def acts_for_department(user) -> bool:
    return bool(user and user.is_authenticated and user.acts_for_department)


@rules.predicate
def is_deputy_minister(user) -> bool:
    return bool(user and user.is_authenticated and user.is_deputy_minister)


@rules.predicate
def is_provider_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.is_provider_manager)


@rules.predicate
def reads_everything(user) -> bool:
    return bool(user and user.is_authenticated and user.reads_everything)


rules.add_perm("sharedsvc.view_audit", reads_everything)
rules.add_perm("sharedsvc.read_everything", reads_everything)
rules.add_perm("sharedsvc.use_admin", is_administrator)
rules.add_perm("sharedsvc.manage_users", is_administrator)
