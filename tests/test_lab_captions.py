"""The lab's captions read the numbers they are given: each sentence is checked against scores that contradict the textbook."""

from rnntui.lab.captions import expectation, first_at, race_caption, reach_caption, verdict

CHANCE = 0.125


def curve(*accuracies, every=50):
    return [(i * every, a) for i, a in enumerate(accuracies)]


def test_a_cut_gradient_does_not_hide_a_cell_that_learned_anyway():
    # k=10 and L=40: the textbook says no cell learns; here the GRU reached 97%.
    curves = {"rnn": curve(0.12, 0.13, 0.12), "lstm": curve(0.12, 0.3, 0.45), "gru": curve(0.12, 0.6, 0.97)}
    text = race_caption(curves, CHANCE, span=40, bptt=10, filler="noise", finished=True)
    assert text.startswith("step 100: GRU 97% remembers (≥90% since step 100)")
    assert "LSTM 45% above chance" in text and "RNN 12% near chance (12%)" in text
    assert "yet a state carried the symbol 40 steps" in text and "nothing taught" not in text


def test_when_nothing_learned_under_a_cut_the_caption_says_so_after_the_race_only():
    curves = {"rnn": curve(0.12, 0.13), "lstm": curve(0.12, 0.14), "gru": curve(0.12, 0.12)}
    running = race_caption(curves, CHANCE, span=40, bptt=10, filler="noise")
    done = race_caption(curves, CHANCE, span=40, bptt=10, filler="noise", finished=True)
    assert running.startswith("step 50: no cell remembers yet") and "nothing taught" not in running
    assert done.startswith("after 50 steps:") and "nothing taught a cell to carry it 40 steps" in done


def test_who_got_there_first_is_read_from_the_curves():
    curves = {"lstm": curve(0.1, 0.5, 0.92, 1.0), "gru": curve(0.1, 0.95, 0.99, 1.0)}
    text = race_caption(curves, CHANCE, span=40, bptt=0, filler="noise")
    assert "GRU 100%, LSTM 100% remember (≥90% since step 50, 100)" in text  # the first there, first
    assert first_at(curves["lstm"]) == 100 and first_at(curves["gru"], 0.99) == 100 and first_at(curves["lstm"], 2) is None


def test_an_rnn_above_chance_on_a_constant_filler_is_named_and_on_noise_it_is_not_excused():
    curves = {"rnn": curve(0.12, 0.76), "gru": curve(0.12, 1.0)}
    assert "fixed point" in race_caption(curves, CHANCE, span=40, bptt=0, filler="constant")
    text = race_caption(curves, CHANCE, span=40, bptt=0, filler="noise")
    assert "RNN 76% above chance" in text and "fixed point" not in text


def test_no_caption_before_a_result_and_the_expectation_says_it_is_one():
    assert verdict({"rnn": curve(0.12)}, CHANCE) is None and race_caption({"rnn": curve(0.12)}, CHANCE, 40, 0, "noise") == ""
    assert expectation("recall", 40, 10, "noise", CHANCE).startswith("expected: the gradient is cut every k=10")
    assert "fixed point" in expectation("recall", 5, 0, "constant", CHANCE)
    assert "cut" not in expectation("recall", 10, 10, "noise", CHANCE)  # k = L: nothing is cut


def test_a_small_lstm_reach_with_a_perfect_score_points_at_c():
    ratios = {"rnn": 2e-9, "lstm": 4e-3, "gru": 0.7}
    text = reach_caption(ratios, 40, {"rnn": 0.13, "lstm": 1.0, "gru": 1.0})
    assert text.startswith("gradient through h left 40 steps back: RNN 2e-09 (vanishes), LSTM 4e-03 (fades), GRU 7e-01 (holds)")
    assert "The LSTM scores 100% anyway: its memory is in c" in text
    # The same reach from an LSTM that did not learn: nothing to explain away.
    assert "memory is in c" not in reach_caption(ratios, 40, {"lstm": 0.2})
    assert "(grows)" in reach_caption({"rnn": 30.0}, 5)
