"""Unit tests of the torch adapter, driven directly (not through the plugin).

The phase is the mode new ``torch.nn.Module`` objects start in. The oracle for
every transform of an existing module (``torch.jit``, ``torch.fx``,
``torch.export``, ``torch.compile``, copies, pickles) is the same transform
with the phase unset: there the wrapper of ``Module.__init__`` changes
nothing, so the result is PyTorch's own. torch is imported only through
``require_torch()``, so this module is collected (and skipped, or failed under
``CI=true``) without it.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import io
import subprocess
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_learning_phase._phase import Phase
from pytest_learning_phase.adapters import UnsetEquivalent
from pytest_learning_phase.adapters.torch import (
    NOT_INSTALLED_MESSAGE,
    ROOT_NAME,
    TorchAdapter,
    make_torch_adapter,
    modules_in_mode,
)
from tests._frameworks import require_torch
from tests._threads import run_in_thread

Flags = dict[str, bool]


@pytest.fixture
def torch() -> Any:
    """The ``torch`` module; the test is skipped (failed under CI) without it."""
    return require_torch()


@pytest.fixture
def adapter(torch: Any) -> Iterator[TorchAdapter]:
    """The adapter, with the wrapper installed; this thread's phase is put back afterwards."""
    adapter = make_torch_adapter()
    previous_state = adapter.save_state()
    yield adapter
    adapter.restore_state(previous_state)


def flags(module: Any) -> Flags:
    """Return every submodule's ``training`` flag by qualified name (the root is ``""``)."""
    return {name: submodule.training for name, submodule in module.named_modules()}


def build_model(torch: Any) -> Any:
    """Return a small model of built-in modules: picklable, scriptable, traceable, exportable.

    The nested ``Sequential`` at ``2`` makes ``torch.fx`` build an intermediate
    container of its own.
    """
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(3, 3), nn.Dropout(0.5), nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    )


def build_in_mixed_modes(torch: Any) -> Any:
    """Return ``build_model`` with the root in train mode and some submodules in eval mode."""
    model = build_model(torch)
    model[1].eval()
    model[2][1].eval()
    return model


def build_in_eval_mode(torch: Any) -> Any:
    """Return ``build_model`` in eval mode, every submodule included."""
    return build_model(torch).eval()


def build_with_submodules_built_by_torch(torch: Any) -> Any:
    """Return a model whose submodules ``torch.nn`` builds itself, in ``__init__`` and helpers.

    ``TransformerEncoder`` makes its ``layers`` ``ModuleList`` in a helper
    function; ``MultiheadAttention`` makes its ``out_proj`` in its ``__init__``.
    """
    nn = torch.nn
    layer = nn.TransformerEncoderLayer(d_model=4, nhead=2)
    return nn.ModuleDict(
        {
            "encoder": nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False),
            "head": nn.Linear(4, 2),
        }
    )


def every_flag(model: Any) -> set[bool]:
    """Return the set of ``training`` values over the model and all its submodules."""
    return set(flags(model).values())


# -- new modules follow the phase ----------------------------------------------------------


@pytest.mark.parametrize("phase", [0, 1])
def test_a_new_model_and_every_submodule_start_in_the_phase_s_mode(
    adapter: TorchAdapter, torch: Any, phase: int
) -> None:
    adapter.set_phase(phase)  # type: ignore[arg-type]
    model = build_with_submodules_built_by_torch(torch)
    assert every_flag(model) == {phase == 1}


@pytest.mark.parametrize("phase", [0, 1])
def test_a_user_module_and_its_submodules_start_in_the_phase_s_mode(
    adapter: TorchAdapter, torch: Any, phase: int
) -> None:
    class Net(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.body = build_model(torch)

    adapter.set_phase(phase)  # type: ignore[arg-type]
    assert every_flag(Net()) == {phase == 1}


def test_unset_leaves_new_modules_in_pytorch_s_train_mode(
    adapter: TorchAdapter, torch: Any
) -> None:
    adapter.set_phase(None)
    assert every_flag(build_with_submodules_built_by_torch(torch)) == {True}


def test_skip_init_follows_the_phase(adapter: TorchAdapter, torch: Any) -> None:
    adapter.set_phase(0)
    assert torch.nn.utils.skip_init(torch.nn.Linear, 2, 2).training is False


# -- explicit calls win --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "in_init", "expected"),
    [
        (0, lambda module: module.train(), {True}),
        (1, lambda module: module.eval(), {False}),
        (1, lambda module: module.train(False), {False}),
    ],
    ids=["train-in-init", "eval-in-init", "train-false-in-init"],
)
def test_an_explicit_mode_call_in_init_wins_over_the_phase(
    adapter: TorchAdapter,
    torch: Any,
    phase: int,
    in_init: Callable[[Any], object],
    expected: set[bool],
) -> None:
    class Net(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.body = build_model(torch)
            in_init(self)

    adapter.set_phase(phase)  # type: ignore[arg-type]
    assert every_flag(Net()) == expected


def test_an_assignment_to_training_after_super_init_wins_over_the_phase(
    adapter: TorchAdapter, torch: Any
) -> None:
    class AlwaysEval(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.training = False

    adapter.set_phase(1)
    assert AlwaysEval().training is False


@pytest.mark.parametrize("phase", [0, 1])
def test_train_and_eval_after_construction_win_over_the_phase(
    adapter: TorchAdapter, torch: Any, phase: int
) -> None:
    adapter.set_phase(phase)  # type: ignore[arg-type]
    model = build_model(torch)
    assert every_flag(model.train()) == {True}
    assert every_flag(model.eval()) == {False}


# -- transforms of an existing module keep its modes ---------------------------------------


def _pickle_round_trip(torch: Any, model: Any) -> Any:
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def _export(torch: Any, model: Any) -> Any:
    return torch.export.export(model, (torch.randn(4, 3),)).module()


TRANSFORMS: dict[str, Callable[[Any, Any], Any]] = {
    "jit.script": lambda torch, model: torch.jit.script(model),
    "jit.trace": lambda torch, model: torch.jit.trace(model, torch.randn(4, 3), check_trace=False),
    "fx.symbolic_trace": lambda torch, model: torch.fx.symbolic_trace(model),
    "export.module": _export,
    "deepcopy": lambda torch, model: copy.deepcopy(model),
    "save-load": _pickle_round_trip,
    "compile": lambda torch, model: torch.compile(model, backend="eager"),
}


def _transform(
    adapter: TorchAdapter, torch: Any, name: str, source: Any, phase: int | None
) -> tuple[Flags, str | None]:
    """Return the flags and the generated code (if any) of ``source`` transformed at ``phase``."""
    adapter.set_phase(phase)  # type: ignore[arg-type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and export warnings, not ours
            result = TRANSFORMS[name](torch, source)
    finally:
        adapter.set_phase(None)
    return flags(result), getattr(result, "code", None)


@pytest.mark.parametrize("build_source", [build_in_mixed_modes, build_in_eval_mode])
@pytest.mark.parametrize("phase", [0, 1])
@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_a_transform_gives_what_pytorch_gives_with_the_phase_unset(
    adapter: TorchAdapter,
    torch: Any,
    transform: str,
    phase: int,
    build_source: Callable[[Any], Any],
) -> None:
    adapter.set_phase(None)
    source = build_source(torch)
    expected_flags, expected_code = _transform(adapter, torch, transform, source, None)
    actual_flags, actual_code = _transform(adapter, torch, transform, source, phase)
    assert actual_flags == expected_flags
    assert actual_code == expected_code


@pytest.mark.parametrize("transform", ["jit.script", "jit.trace", "deepcopy", "save-load"])
def test_a_copying_transform_keeps_every_flag_of_the_original(
    adapter: TorchAdapter, torch: Any, transform: str
) -> None:
    adapter.set_phase(None)
    source = build_in_mixed_modes(torch)
    for phase in (0, 1):
        result_flags, _ = _transform(adapter, torch, transform, source, phase)
        assert result_flags == flags(source)


def test_fx_copies_the_root_flag_and_makes_its_own_containers_in_train_mode(
    adapter: TorchAdapter, torch: Any
) -> None:
    """What PyTorch does, kept under phase 0: the container ``2`` is fx's, not the original."""
    adapter.set_phase(None)
    source = build_in_eval_mode(torch)
    result_flags, _ = _transform(adapter, torch, "fx.symbolic_trace", source, 0)
    assert result_flags == {
        "": False,
        "0": False,
        "1": False,
        "2": True,
        "2.0": False,
        "2.1": False,
    }


def test_export_module_starts_every_module_in_train_mode_whatever_the_original(
    adapter: TorchAdapter, torch: Any
) -> None:
    adapter.set_phase(None)
    source = build_in_eval_mode(torch)
    result_flags, _ = _transform(adapter, torch, "export.module", source, 0)
    assert set(result_flags.values()) == {True}


def test_compile_keeps_the_original_s_flag(adapter: TorchAdapter, torch: Any) -> None:
    adapter.set_phase(None)
    source = build_in_eval_mode(torch)
    result_flags, _ = _transform(adapter, torch, "compile", source, 1)
    assert result_flags[""] is False
    assert result_flags["_orig_mod.2.1"] is False


# -- threads -------------------------------------------------------------------------------


def test_a_module_built_in_another_thread_ignores_this_thread_s_phase(
    adapter: TorchAdapter, torch: Any
) -> None:
    adapter.set_phase(0)
    model = run_in_thread(lambda: build_model(torch))
    assert every_flag(model) == {True}


def test_another_thread_s_phase_is_its_own(adapter: TorchAdapter, torch: Any) -> None:
    adapter.set_phase(1)

    def build_at_phase_0() -> tuple[Any, int | None]:
        adapter.set_phase(0)
        return build_model(torch), adapter.get_phase()

    model, phase_there = run_in_thread(build_at_phase_0)
    assert every_flag(model) == {False}
    assert phase_there == 0
    assert adapter.get_phase() == 1
    assert every_flag(build_model(torch)) == {True}


def test_a_new_thread_starts_unset(adapter: TorchAdapter) -> None:
    adapter.set_phase(0)
    assert run_in_thread(adapter.get_phase) is None


# -- the wrapper: installed once, kept, compatible with torch.compile ----------------------


def test_installing_twice_wraps_init_once(adapter: TorchAdapter, torch: Any) -> None:
    init_before = torch.nn.Module.__init__
    second = make_torch_adapter()
    assert torch.nn.Module.__init__ is init_before
    count = second.phase_read_counter()
    second.track_reads(True)
    second.set_phase(1)
    before = count()
    torch.nn.Identity()(torch.ones(1))
    second.track_reads(False)
    assert count() == before + 1


def test_new_modules_follow_the_phase_after_torch_compile(
    adapter: TorchAdapter, torch: Any
) -> None:
    adapter.set_phase(None)
    compiled = torch.compile(torch.nn.Linear(2, 2), backend="eager")
    compiled(torch.ones(1, 2))  # the first call wraps Module.__init__ again (dynamo)
    init_after_compile = torch.nn.Module.__init__
    adapter.set_phase(0)
    assert every_flag(build_model(torch)) == {False}
    make_torch_adapter()
    assert torch.nn.Module.__init__ is init_after_compile


@pytest.mark.parametrize("phase", [None, 0, 1])
def test_a_module_built_inside_compiled_code_starts_as_pytorch_makes_it(
    adapter: TorchAdapter, torch: Any, phase: int | None
) -> None:
    """Dynamo traces the wrapper; it stops at ``is_compiling()``, even with ``fullgraph``."""

    class BuildsADropout(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            return x, torch.nn.Dropout(0.5).training

    torch._dynamo.reset()
    adapter.set_phase(phase)  # type: ignore[arg-type]
    compiled = torch.compile(BuildsADropout(), backend="eager", fullgraph=True)
    _, inner_training = compiled(torch.ones(2))
    assert inner_training is True


def test_training_is_a_plain_instance_attribute(torch: Any) -> None:
    """What the flag snapshots rely on to read and write it directly."""
    module = torch.nn.Linear(1, 1)
    assert "training" in vars(module)
    assert all("training" not in vars(cls) for cls in type(module).__mro__)


# -- the adapter's state -------------------------------------------------------------------


@pytest.mark.parametrize("phase", [None, 0, 1])
def test_save_and_restore_state_put_the_phase_back(
    adapter: TorchAdapter, phase: int | None
) -> None:
    adapter.set_phase(phase)  # type: ignore[arg-type]
    saved = adapter.save_state()
    adapter.set_phase(1 if phase == 0 else 0)
    adapter.restore_state(saved)
    assert adapter.get_phase() == phase


@pytest.mark.parametrize("state", [2, True, "1", object()])
def test_restore_state_rejects_what_save_state_never_returns(
    adapter: TorchAdapter, state: object
) -> None:
    with pytest.raises(TypeError, match="expected a state saved by TorchAdapter, got "):
        adapter.restore_state(state)


@pytest.mark.parametrize("phase", [2, -1, True])
def test_set_phase_rejects_values_that_are_not_phases(adapter: TorchAdapter, phase: object) -> None:
    with pytest.raises(ValueError, match=r"^expected 0, 1 or None, got "):
        adapter.set_phase(phase)  # type: ignore[arg-type]


def test_the_adapter_names_itself_and_explains_unset(adapter: TorchAdapter) -> None:
    assert adapter.name == "torch"
    assert adapter.header_note == "unset = PyTorch's default, train mode"


def test_make_torch_adapter_without_torch_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(pytest.UsageError) as raised:
        make_torch_adapter()
    assert str(raised.value) == NOT_INSTALLED_MESSAGE
    assert NOT_INSTALLED_MESSAGE == (
        "the torch backend needs torch, which is not installed: "
        'pip install "pytest-learning-phase[torch]"'
    )


def test_importing_the_adapter_module_does_not_import_torch() -> None:
    code = (
        "import sys, pytest_learning_phase.adapters.torch; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'torch'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# -- the read counter ----------------------------------------------------------------------


@pytest.fixture
def tracking(adapter: TorchAdapter) -> Iterator[Callable[[], int]]:
    """The audit's read count, with marking on for the test (as while an audited test runs)."""
    count = adapter.phase_read_counter()
    adapter.track_reads(True)
    yield count
    adapter.track_reads(False)


def forward(torch: Any, model: Any) -> None:
    model(torch.ones(2, 3))


@pytest.mark.parametrize("phase", [None, 0, 1])
def test_a_forward_of_modules_moded_by_the_phase_is_a_read(
    adapter: TorchAdapter, torch: Any, tracking: Callable[[], int], phase: Phase
) -> None:
    # Sequential, Linear, Dropout, Sequential, Linear, BatchNorm1d: six forwards.
    adapter.set_phase(phase)
    model = build_model(torch)
    before = tracking()
    forward(torch, model)
    assert tracking() == before + 6


def test_building_a_module_is_not_a_read(
    adapter: TorchAdapter, torch: Any, tracking: Callable[[], int]
) -> None:
    adapter.set_phase(1)
    before = tracking()
    build_model(torch)
    assert tracking() == before


@pytest.mark.parametrize("set_mode", [".train()", ".eval()", "training ="])
def test_a_module_whose_mode_was_set_explicitly_is_not_a_read(
    adapter: TorchAdapter, torch: Any, tracking: Callable[[], int], set_mode: str
) -> None:
    adapter.set_phase(1)
    model = build_model(torch)
    if set_mode == ".train()":
        model.train()
    elif set_mode == ".eval()":
        model.eval()
    else:
        for module in model.modules():
            module.training = False
    before = tracking()
    forward(torch, model)
    assert tracking() == before


def test_modules_built_while_not_tracking_are_not_reads(
    adapter: TorchAdapter, torch: Any, tracking: Callable[[], int]
) -> None:
    adapter.track_reads(False)  # as in a wider fixture's setup, or between tests
    model = build_model(torch)
    adapter.track_reads(True)
    before = tracking()
    forward(torch, model)
    assert tracking() == before


def test_the_counter_counts_forwards_in_other_threads(
    adapter: TorchAdapter, torch: Any, tracking: Callable[[], int]
) -> None:
    before = tracking()

    def build_and_run_at_phase_1() -> None:
        adapter.set_phase(1)
        forward(torch, torch.nn.Linear(3, 3))

    run_in_thread(build_and_run_at_phase_1)
    assert tracking() == before + 1


def test_the_counter_ignores_modules_pytorch_builds_while_transforming(
    adapter: TorchAdapter, torch: Any, tracking: Callable[[], int]
) -> None:
    adapter.track_reads(False)
    source = build_model(torch)
    adapter.track_reads(True)
    adapter.set_phase(1)
    traced = torch.fx.symbolic_trace(source)
    before = tracking()
    forward(torch, traced)
    assert tracking() == before


def test_torch_says_unset_is_train_mode(adapter: TorchAdapter) -> None:
    assert isinstance(adapter, UnsetEquivalent)
    assert adapter.unset_phase == 1


# -- flags of the modules a wider fixture holds --------------------------------------------


def test_restoring_unchanged_flags_reports_nothing(adapter: TorchAdapter, torch: Any) -> None:
    model = build_in_mixed_modes(torch)
    saved = adapter.save_module_flags(model)
    assert adapter.restore_module_flags(saved) == []
    assert flags(model) == flags(build_in_mixed_modes(torch))


def test_restoring_flags_puts_every_flag_back_and_names_the_changed_ones(
    adapter: TorchAdapter, torch: Any
) -> None:
    model = build_in_mixed_modes(torch)
    before = flags(model)
    saved = adapter.save_module_flags(model)
    model[2].train()  # flips 2.1 only
    model[0].eval()
    assert adapter.restore_module_flags(saved) == ["0", "2.1"]
    assert flags(model) == before


def test_a_snapshot_can_be_restored_again_after_each_change(
    adapter: TorchAdapter, torch: Any
) -> None:
    model = build_in_mixed_modes(torch)
    before = flags(model)
    saved = adapter.save_module_flags(model)
    model[0].eval()
    assert adapter.restore_module_flags(saved) == ["0"]
    model[2][0].eval()
    assert adapter.restore_module_flags(saved) == ["2.0"]
    assert flags(model) == before


def test_a_changed_root_is_named_root(adapter: TorchAdapter, torch: Any) -> None:
    model = build_model(torch)
    saved = adapter.save_module_flags(model)
    model.training = False
    assert adapter.restore_module_flags(saved) == [ROOT_NAME]
    assert ROOT_NAME == "<root>"
    assert model.training is True


@pytest.mark.parametrize(
    ("make_value", "flip", "expected_names"),
    [
        (lambda model: (model,), lambda value: value[0][2][0].eval(), ["[0].2.0"]),
        (
            lambda model: [1, model],
            lambda value: value[1].eval(),
            ["[1]", "[1].0", "[1].2", "[1].2.0"],
        ),
        (lambda model: {"model": model}, lambda value: value["model"][1].train(), ["['model'].1"]),
        (
            lambda model: {"parts": [("x", model)]},
            lambda value: value["parts"][0][1][0].eval(),
            ["['parts'][0][1].0"],
        ),
    ],
    ids=["tuple", "list", "dict", "nested"],
)
def test_modules_in_containers_are_restored_and_named_by_their_path(
    adapter: TorchAdapter,
    torch: Any,
    make_value: Callable[[Any], Any],
    flip: Callable[[Any], object],
    expected_names: list[str],
) -> None:
    model = build_in_mixed_modes(torch)
    before = flags(model)
    value = make_value(model)
    saved = adapter.save_module_flags(value)
    flip(value)
    assert adapter.restore_module_flags(saved) == expected_names
    assert flags(model) == before


def test_a_module_held_twice_is_saved_once_under_its_first_name(
    adapter: TorchAdapter, torch: Any
) -> None:
    model = build_model(torch)
    saved = adapter.save_module_flags({"model": model, "head": model[2]})
    model[2][1].eval()
    assert adapter.restore_module_flags(saved) == ["['model'].2.1"]


@pytest.mark.parametrize(
    "value",
    [None, 3, "model", [1, (2, {"a": None})], [[[[object()]]]]],
    ids=["none", "int", "str", "containers-without-modules", "object-four-deep"],
)
def test_a_value_without_modules_has_no_flags(adapter: TorchAdapter, value: object) -> None:
    assert adapter.save_module_flags(value) is None


def test_modules_in_containers_at_any_depth_are_saved_and_named_by_their_path(
    adapter: TorchAdapter, torch: Any
) -> None:
    model = torch.nn.Identity()
    saved = adapter.save_module_flags([[[[[{"deep": model}]]]]])
    model.eval()
    assert adapter.restore_module_flags(saved) == ["[0][0][0][0][0]['deep']"]
    assert model.training


def test_modules_held_as_attributes_dataclass_fields_and_slots_are_saved(
    adapter: TorchAdapter, torch: Any
) -> None:
    @dataclasses.dataclass
    class Bundle:
        model: Any
        tokenizer: object

    class Slotted:
        __slots__ = ("__hidden", "net")

        def __init__(self, net: Any, hidden: Any) -> None:
            self.net = net
            self.__hidden = hidden

    class Wrapper:  # skorch's NeuralNet keeps the initialized module as module_
        def __init__(self, module: Any) -> None:
            self.module_ = module
            self.history = [{"epoch": 1}]

    first, second, third, fourth = (torch.nn.Dropout() for _ in range(4))
    value = [
        Bundle(first, tokenizer=object()),
        types.SimpleNamespace(inner=Wrapper(second)),
        Slotted(third, fourth),
    ]
    saved = adapter.save_module_flags(value)
    for module in (first, second, third, fourth):
        module.eval()
    assert adapter.restore_module_flags(saved) == [
        "[0].model",
        "[2].__hidden",
        "[2].net",
        "[1].inner.module_",
    ]


def test_a_value_that_holds_itself_is_walked_once(adapter: TorchAdapter, torch: Any) -> None:
    model = torch.nn.Dropout()
    cycle: list[Any] = [model]
    cycle.append(cycle)
    namespace = types.SimpleNamespace(model=model)
    namespace.again = namespace
    assert adapter.save_module_flags(cycle) is not None
    saved = adapter.save_module_flags(namespace)
    model.eval()
    assert adapter.restore_module_flags(saved) == ["model"]


@pytest.mark.parametrize("container", [list, collections.deque], ids=["list", "deque"])
def test_the_walk_stops_at_its_budget(
    adapter: TorchAdapter, torch: Any, container: Callable[[list[object]], object]
) -> None:
    from pytest_learning_phase.adapters._held import WALK_BUDGET

    model = torch.nn.Dropout()
    assert adapter.save_module_flags(container([*range(WALK_BUDGET - 2), model])) is not None
    assert adapter.save_module_flags(container([*range(WALK_BUDGET), model])) is None


def test_modules_in_deques_sets_and_frozensets_are_saved_and_named_by_their_place(
    adapter: TorchAdapter, torch: Any
) -> None:
    queued, in_set, frozen = (torch.nn.Dropout() for _ in range(3))
    saved = adapter.save_module_flags(
        {"queue": collections.deque([queued]), "set": {in_set}, "frozen": [{frozenset([frozen])}]}
    )
    for module in (queued, in_set, frozen):
        module.eval()
    assert adapter.restore_module_flags(saved) == [
        "['queue'][0]",
        "['set']{0}",
        "['frozen'][0]{0}{0}",
    ]
    assert [module.training for module in (queued, in_set, frozen)] == [True, True, True]


def test_flags_are_restored_on_the_modules_saved_even_if_moved(
    adapter: TorchAdapter, torch: Any
) -> None:
    model = build_model(torch)
    dropout = model[1]
    saved = adapter.save_module_flags(model)
    model[1] = torch.nn.Identity()
    dropout.eval()
    assert adapter.restore_module_flags(saved) == ["1"]
    assert dropout.training is True


def test_structure_changes_name_what_was_added_removed_or_replaced_once(
    adapter: TorchAdapter, torch: Any
) -> None:
    nn = torch.nn
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Dropout()), nn.Dropout())
    saved = adapter.save_module_flags({"net": model})
    assert adapter.structure_changes(saved) == []
    model[1][1] = nn.Dropout()
    model.append(nn.ReLU())
    assert adapter.structure_changes(saved) == ["['net'].3 added", "['net'].1.1 replaced"]
    assert adapter.structure_changes(saved) == []  # the structure seen is the new one
    model[1][1] = model[1][1]
    assert adapter.structure_changes(saved) == []
    del model[3]  # Sequential's __delitem__ builds a new _modules dict
    assert adapter.structure_changes(saved) == ["['net'].3 removed"]


def test_flags_of_a_scripted_module_are_restored_through_its_setattr(
    adapter: TorchAdapter, torch: Any
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated
        scripted = torch.jit.script(build_in_mixed_modes(torch))
    before = flags(scripted)
    saved = adapter.save_module_flags(scripted)
    scripted.eval()
    assert adapter.restore_module_flags(saved) == ["<root>", "0", "2", "2.0"]
    assert flags(scripted) == before
    assert "training" not in vars(scripted)
    assert adapter.structure_changes(saved) == []  # its submodules are in a mapping of its own


def test_restore_module_flags_rejects_what_save_never_returns(adapter: TorchAdapter) -> None:
    with pytest.raises(TypeError, match="expected flags saved by TorchAdapter, got None"):
        adapter.restore_module_flags(None)


# -- modules_in_mode -----------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_modules_in_mode_puts_every_submodule_in_the_mode(torch: Any, training: bool) -> None:
    model = build_in_mixed_modes(torch)
    with modules_in_mode(model, training) as inside:
        assert inside is model
        assert every_flag(model) == {training}


@pytest.mark.parametrize("training", [True, False])
def test_modules_in_mode_restores_every_flag_exactly_after_an_exception(
    torch: Any, training: bool
) -> None:
    model = build_in_mixed_modes(torch)
    before = flags(model)

    def use_then_fail() -> None:
        with modules_in_mode(model, training):
            model[0].train(not training)  # changed inside the block too
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use_then_fail()
    assert flags(model) == before


def test_modules_in_mode_calls_train_so_overrides_apply(torch: Any) -> None:
    class FrozenNorm(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.norm = torch.nn.BatchNorm1d(2)

        def train(self, mode: bool = True) -> Any:
            super().train(mode)
            self.norm.eval()  # frozen statistics, as fine-tuning code does
            return self

    model = FrozenNorm()
    with modules_in_mode(model, True):
        assert model.training is True
        assert model.norm.training is False
