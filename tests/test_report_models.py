"""The reports on real models: nested, deep, shared and threaded, on tf_keras and torch.

What a run records is what computed: Keras calling a model's layers on
placeholders to build it is no run of them; a layer is listed once per mode
and source, by a path when two layers share a name.
"""

from __future__ import annotations

import textwrap

import pytest

from pytest_learning_phase._provenance import Provenance
from tests._suite import BACKEND_MODULES, PHASE_HELPER, Suite
from tests.test_plugin_torch import run as run_torch


def section(result: pytest.RunResult) -> list[str]:
    """Return the lines of every "learning phase" section of the output, in order."""
    lines: list[str] = []
    inside = False
    for line in result.outlines:
        if "- learning phase -" in line:
            inside = True
        elif inside and line.startswith(("=", "_", "-")):
            inside = False
        elif inside:
            lines.append(line)
    return lines


@pytest.fixture
def tf_keras_suite(preloaded_tf_keras: None, pytester: pytest.Pytester) -> Suite:
    """A pytester session driving the real tf_keras."""
    pytester.makepyfile(lp_backend=BACKEND_MODULES["tf_keras"] + PHASE_HELPER)
    pytester.syspathinsert()
    return Suite(pytester, "tf_keras")


READS = "the layer's default (training=None), so the layer reads learning_phase()"
TRACED = "; inside a tf.function trace made in this run (its later calls reuse this mode)"


# -- tf_keras: what Keras does to build a model is not a run. -------------------------


def test_nested_sequential_built_on_its_first_call_lists_each_layer_once_by_path(
    tf_keras_suite: Suite,
) -> None:
    tf_keras_suite.write(
        """
        import numpy as np
        import tf_keras
        from tf_keras import layers

        def test_nested():
            inner = tf_keras.Sequential(
                [layers.Dense(4), layers.Dropout(0.5, name="drop")], name="inner"
            )
            outer = tf_keras.Sequential([inner, layers.Dropout(0.5, name="drop")], name="outer")
            x = np.ones((4, 3), "float32")
            outer(x)
            outer(x)
            assert False
        """
    )
    result = tf_keras_suite.run("--learning-phase-audit")
    result.assert_outcomes(failed=1)
    assert section(result)[1:] == [
        f"  outer (Sequential) ran in test mode (2 calls): {READS}",
        f"  inner (Sequential) ran in test mode (2 calls): {READS}",
        f"  inner/drop (Dropout) ran in test mode (2 calls): {READS}",
        f"  outer/drop (Dropout) ran in test mode (2 calls): {READS}",
    ]


def test_model_built_by_build_and_by_functional_calls_records_only_its_real_calls(
    tf_keras_suite: Suite,
) -> None:
    tf_keras_suite.write(
        """
        import numpy as np
        import tf_keras
        from tf_keras import layers

        class Net(tf_keras.Model):
            def __init__(self):
                super().__init__(name="net")
                self.drop = layers.Dropout(0.5, name="drop")

            def call(self, x, training=None):
                return self.drop(x, training=training)

        def test_built():
            net = Net()
            net.build((None, 3))  # calls the layers on placeholders
            net.compute_output_shape((None, 3))
            inputs = tf_keras.Input((3,))
            functional = tf_keras.Model(inputs, layers.Dropout(0.5, name="f_drop")(inputs))
            functional(np.ones((2, 3), "float32"))
            assert False
        """
    )
    result = tf_keras_suite.run("--learning-phase-audit")
    result.assert_outcomes(failed=1)
    assert section(result)[1:] == [
        f"  model (Functional) ran in test mode: {READS}",
        f"  f_drop (Dropout) ran in test mode: {READS}",
    ]


def test_layers_first_called_inside_a_tf_function_are_named_with_the_trace(
    tf_keras_suite: Suite,
) -> None:
    tf_keras_suite.write(
        """
        import numpy as np
        import tensorflow as tf
        import tf_keras
        from tf_keras import layers

        def test_traced():
            model = tf_keras.Sequential(
                [layers.Dense(4), layers.Dropout(0.5, name="drop")], name="model"
            )
            predict = tf.function(lambda x: model(x))
            x = np.ones((4, 3), "float32")
            predict(x)
            predict(x)
            assert False
        """
    )
    result = tf_keras_suite.run("--learning-phase-audit")
    result.assert_outcomes(failed=1)
    assert section(result)[1:] == [
        # tf.function traces twice: a first call that creates variables traces again.
        f"  model (Sequential) ran in test mode (2 calls): {READS}{TRACED}",
        f"  drop (Dropout) ran in test mode (2 calls): {READS}{TRACED}",
    ]


def test_reference_layers_sharing_a_name_are_listed_by_their_path(reference_suite: Suite) -> None:
    reference_suite.write(
        """
        import numpy as np
        from pytest_learning_phase import layers

        class Block(layers.Layer):
            def __init__(self, name):
                super().__init__(name=name)
                self.drop = layers.Dropout(0.5, name="drop")

            def call(self, x):
                return self.drop(x)

        def test_two_blocks():
            first, second = Block("first"), Block("second")
            x = np.ones((2, 3), "float32")
            second(first(x))
            second(x)
            assert False
        """
    )
    result = reference_suite.run("--learning-phase-audit")
    result.assert_outcomes(failed=1)
    assert section(result)[1:] == [
        f"  first/drop (Dropout) ran in test mode: {READS}",
        f"  second/drop (Dropout) ran in test mode (2 calls): {READS}",
    ]


# -- Threads. ------------------------------------------------------------------------

IN_ANOTHER_THREAD = "; in another thread than the test's (each thread has its own phase)"


def test_keras_layers_called_in_another_thread_say_so(suite: Suite) -> None:
    layers = "pytest_learning_phase" if suite.backend == "reference" else "tf_keras"
    suite.write(
        f"""
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        from {layers} import layers

        def test_threads():
            drop = layers.Dropout(0.5, name="drop", seed=1)
            x = np.ones((64, 8), "float32")
            with ThreadPoolExecutor(2) as pool:
                outputs = list(pool.map(lambda _: np.asarray(drop(x)), range(4)))
            assert all(np.array_equal(output, x) for output in outputs)
            assert np.array_equal(np.asarray(drop(x)), x)
        """
    )
    result = suite.run("--learning-phase-audit")
    result.stdout.fnmatch_lines(
        [
            "    run again in phase 1 (train): failed: *assert False",
            # The thread's phase is unset: its calls run in test mode in every run.
            f"      drop (Dropout) ran in test mode: {READS}{IN_ANOTHER_THREAD}",
            "      drop (Dropout) ran in train mode: the global phase",
            "      reproduce: *",
        ],
        consecutive=True,
    )


# -- torch: where a module came from, and its name. -----------------------------------


def test_torch_module_built_by_a_wider_fixture_during_the_run_says_so(
    preloaded_torch: None, pytester: pytest.Pytester
) -> None:
    result = run_torch(
        pytester,
        """
        import pytest
        import torch
        from torch import nn

        @pytest.fixture(scope="module")
        def shared():
            return nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

        def test_uses_it(shared):
            x = torch.ones(8, 4)
            shared(x)
            shared(x)
            assert False
        """,
        "--learning-phase-audit",
    )
    result.assert_outcomes(failed=1)
    assert section(result)[1:] == [
        "  shared.1 (Dropout) ran in train mode (2 calls): "
        "built by a wider fixture while the phase was unset"
    ]


@pytest.mark.parametrize(
    ("audit", "line"),
    [
        ([], "  net.drop (Dropout) is in train mode (2 alike)"),
        (
            ["--learning-phase-audit"],
            "  net.drop (Dropout) ran in train mode: built while the phase was unset (2 alike)",
        ),
    ],
    ids=["plain", "audit"],
)
def test_torch_modules_built_inside_an_assert_are_named_by_their_class(
    preloaded_torch: None, pytester: pytest.Pytester, audit: list[str], line: str
) -> None:
    result = run_torch(
        pytester,
        """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)

            def forward(self, x):
                return self.drop(x)

        def test_two_nets():
            x = torch.ones(8, 4)
            assert torch.equal(Net()(x) + Net()(x), 2 * x)
        """,
        *audit,
    )
    # pytest's assertion rewriting holds them as ``@py_assert4``: not a name to show.
    assert section(result)[1:] == [line]


def test_shared_names_take_the_shortest_end_of_their_paths_that_tells_them_apart() -> None:
    provenance = Provenance()
    calls = [  # (layer, its parent): a deep chain, then two blocks holding a "drop" each
        ("drop_a", "first"),
        ("first", "top"),
        ("drop_b", "second"),
        ("second", "top"),
        ("drop_c", "top"),
        ("loop", "loop"),
    ]
    for key, parent in calls:
        provenance.parents.setdefault(key, (parent, parent))
    for key in ("drop_a", "drop_b", "drop_c", "loop", "other_loop"):
        name = "loop" if "loop" in key else "drop"
        provenance.add(key, name, "Dropout", True, "src")
    provenance.parents["other_loop"] = ("loop", "loop")
    assert [entry.name for entry in provenance.ran()] == [
        "first/drop",
        "second/drop",
        "top/drop",
        "loop",  # a layer that calls itself: its path stops there
        "loop/loop",
    ]


# -- Two backends in one test. -------------------------------------------------------------


TWO_BACKENDS_IMPORTS = """
import numpy as np
import torch
from torch import nn
from tf_keras import layers
"""


def audit_on_two_backends(pytester: pytest.Pytester, test: str, *workers: str) -> pytest.RunResult:
    """Audit ``test`` (after the imports of both frameworks) on tf_keras and torch."""
    pytester.makepyfile(test_suite=TWO_BACKENDS_IMPORTS + textwrap.dedent(test))
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--learning-phase-backend=tf_keras,torch",
        "--learning-phase-audit",
        *workers,
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_each_entry_of_a_two_backend_finding_is_written_in_its_backends_words(
    preloaded_torch: None, preloaded_tf_keras: None, pytester: pytest.Pytester, workers: list[str]
) -> None:
    result = audit_on_two_backends(
        pytester,
        """
        def test_both():
            torch.manual_seed(0)
            module = nn.Dropout(0.5)
            layer = layers.Dropout(0.5, name="layer", seed=1)
            ones = np.ones((64, 4), "float32")
            kept_by_module = torch.equal(module(torch.ones(64, 4)), torch.ones(64, 4))
            kept_by_layer = np.array_equal(np.asarray(layer(ones)), ones)
            assert kept_by_module and kept_by_layer
        """,
        *workers,
    )
    result.stdout.fnmatch_lines(
        [
            "  test_suite.py::test_both  test: passed   train: failed",
            "    its own run (phase unset): failed: *",
            "      layer (Dropout) ran in test mode: the layer's default (training=None), "
            "so the layer reads learning_phase()",
            "      module (Dropout) ran in train mode: built while the phase was unset",
            "    run again in phase 0 (test): passed",
            "      layer (Dropout) ran in test mode: the global phase",
            "      module (Dropout) ran in eval mode: built while the phase was 0 (eval)",
        ],
        consecutive=True,
    )


def test_a_keras_layer_says_test_mode_in_a_finding_written_in_torchs_words(
    preloaded_torch: None, preloaded_tf_keras: None, pytester: pytest.Pytester
) -> None:
    result = audit_on_two_backends(
        pytester,
        """
        def test_torch_first():
            torch.manual_seed(0)
            ones = np.ones((64, 4), "float32")
            assert torch.equal(nn.Dropout(0.5)(torch.ones(64, 4)), torch.ones(64, 4))
            assert np.array_equal(np.asarray(layers.Dropout(0.5, name="layer")(ones)), ones)
        """,
    )
    # Its own run read torch only (the layer was not reached): the finding is in torch's words.
    result.stdout.fnmatch_lines(
        [
            "  test_suite.py::test_torch_first  eval: passed   train: failed",
            "    run again in phase 0 (eval): passed",
            "      layer (Dropout) ran in test mode: the global phase",
        ]
    )
