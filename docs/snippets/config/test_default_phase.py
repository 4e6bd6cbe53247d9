def test_runs_at_the_ini_phase(learning_phase):
    assert learning_phase == 0
