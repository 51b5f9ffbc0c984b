"""Module diff cases for nn/recurrent: RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU.

Config fields the C++ side (recurrent.cpp) reads: module, input_size, hidden_size, bias,
nonlinearity (RNN, RNNCell), and for the sequence modules num_layers, batch_first,
bidirectional, dropout (eval mode: no effect); "call" picks the call form: "forward" (m(x): the output only), "state"
(m(x, state): the output and the final state; the state given when the inputs hold h0/c0 or
h/c, zeros otherwise).
"""
import torch

IN, HID, T, N = 3, 4, 5, 2


def _cell(kind, name, bias=True, nonlinearity="tanh", state=True, unbatched=False):
    cls = {"RNNCell": torch.nn.RNNCell, "LSTMCell": torch.nn.LSTMCell, "GRUCell": torch.nn.GRUCell}[kind]
    kwargs = dict(bias=bias)
    if kind == "RNNCell":
        kwargs["nonlinearity"] = nonlinearity
    batch = () if unbatched else (N,)

    def inputs(g):
        ins = {"x": torch.randn(batch + (IN,), generator=g)}
        if state:
            ins["h"] = torch.randn(batch + (HID,), generator=g)
            if kind == "LSTMCell":
                ins["c"] = torch.randn(batch + (HID,), generator=g)
        return ins

    def forward(m, ins):
        if kind == "LSTMCell":
            h, c = m(ins["x"], (ins["h"], ins["c"])) if state else m(ins["x"])
            return {"h": h, "c": c} if state else {"h": h}
        return {"h": m(ins["x"], ins["h"]) if state else m(ins["x"])}

    return dict(name=name, build=lambda: cls(IN, HID, **kwargs), inputs=inputs, forward=forward,
                config=dict(module=kind, input_size=IN, hidden_size=HID, bias=bias, nonlinearity=nonlinearity,
                            call="state" if state else "forward"))


def _seq(kind, name, num_layers=1, bias=True, batch_first=False, bidirectional=False, nonlinearity="tanh",
         call="state", given_state=False, unbatched=False, steps=T, dropout=0.0):
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind]
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                  dropout=dropout)
    if kind == "RNN":
        kwargs["nonlinearity"] = nonlinearity
    states = num_layers * (2 if bidirectional else 1)

    def inputs(g):
        if unbatched:
            shape = (steps, IN)
        else:
            shape = (N, steps, IN) if batch_first else (steps, N, IN)
        ins = {"x": torch.randn(shape, generator=g)}
        if given_state:
            sshape = (states, HID) if unbatched else (states, N, HID)
            ins["h0"] = torch.randn(sshape, generator=g)
            if kind == "LSTM":
                ins["c0"] = torch.randn(sshape, generator=g)
        return ins

    def forward(m, ins):
        if given_state:
            state = (ins["h0"], ins["c0"]) if kind == "LSTM" else ins["h0"]
            y, s = m(ins["x"], state)
        else:
            y, s = m(ins["x"])
        if call == "forward":
            return {"output": y}
        if kind == "LSTM":
            return {"output": y, "h": s[0], "c": s[1]}
        return {"output": y, "h": s}

    return dict(name=name, build=lambda: cls(IN, HID, **kwargs), inputs=inputs, forward=forward,
                config=dict(module=kind, input_size=IN, hidden_size=HID, num_layers=num_layers, bias=bias,
                            batch_first=batch_first, bidirectional=bidirectional, nonlinearity=nonlinearity,
                            dropout=dropout, call=call))


CASES = [
    _cell("RNNCell", "rnn_cell_tanh"),
    _cell("RNNCell", "rnn_cell_relu", nonlinearity="relu"),
    _cell("RNNCell", "rnn_cell_no_bias_zero_state", bias=False, state=False),
    _cell("RNNCell", "rnn_cell_unbatched", unbatched=True),
    _cell("LSTMCell", "lstm_cell"),
    _cell("LSTMCell", "lstm_cell_no_bias", bias=False),
    _cell("LSTMCell", "lstm_cell_zero_state", state=False),
    _cell("LSTMCell", "lstm_cell_unbatched", unbatched=True),
    _cell("GRUCell", "gru_cell"),
    _cell("GRUCell", "gru_cell_no_bias", bias=False),
    _cell("GRUCell", "gru_cell_zero_state", state=False),
    _cell("GRUCell", "gru_cell_unbatched", unbatched=True),
]
for kind in ("RNN", "LSTM", "GRU"):
    k = kind.lower()
    CASES += [
        _seq(kind, k + "_1layer", call="forward"),
        _seq(kind, k + "_1layer_state"),
        _seq(kind, k + "_2layers", num_layers=2),
        _seq(kind, k + "_batch_first", num_layers=2, batch_first=True),
        _seq(kind, k + "_no_bias", num_layers=2, bias=False),
        _seq(kind, k + "_bidirectional", bidirectional=True),
        _seq(kind, k + "_2layers_bidirectional_given_state", num_layers=2, bidirectional=True, given_state=True),
        _seq(kind, k + "_batch_first_bidirectional_given_state", batch_first=True, bidirectional=True,
             given_state=True),
        _seq(kind, k + "_unbatched", num_layers=2, given_state=True, unbatched=True),
        _seq(kind, k + "_unbatched_bidirectional_batch_first", bidirectional=True, batch_first=True, unbatched=True),
        _seq(kind, k + "_one_step", num_layers=2, steps=1, given_state=True),
    ]
CASES += [
    # dropout between layers is set but the cases run in eval mode: no dropout on either side
    _seq("LSTM", "lstm_2layers_dropout_eval", num_layers=2, dropout=0.5, given_state=True),
    _seq("GRU", "gru_2layers_dropout_eval", num_layers=2, dropout=0.5),
    _seq("RNN", "rnn_relu_2layers_bidirectional", num_layers=2, bidirectional=True, nonlinearity="relu",
         given_state=True),
]
