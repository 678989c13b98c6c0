"""A mypy plugin: calling a factory_boy factory gives its model, as it does at run time.

factory_boy's metaclass turns `DepartmentFactory(...)` into `DepartmentFactory.create(...)`,
a `Department`; mypy does not read a metaclass's `__call__`, so it would type the call as a
`DepartmentFactory`. A factory that names its model (`DjangoModelFactory[Department]`) is
typed here as the model; one that does not keeps mypy's own answer.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import AnyType, Instance, Type, get_proper_type

BASE_FACTORY = "factory.base.BaseFactory"


class FactoryBoyPlugin(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        if (
            symbol is not None
            and isinstance(symbol.node, TypeInfo)
            and symbol.node.has_base(BASE_FACTORY)
        ):
            return _factory_call
        return None


def _factory_call(ctx: FunctionContext) -> Type:
    made = get_proper_type(ctx.default_return_type)
    if not isinstance(made, Instance):
        return ctx.default_return_type
    base = next(info for info in made.type.mro if info.fullname == BASE_FACTORY)
    [model] = map_instance_to_supertype(made, base).args
    if isinstance(get_proper_type(model), AnyType):
        return ctx.default_return_type
    return model


def plugin(version: str) -> type[Plugin]:
    return FactoryBoyPlugin
