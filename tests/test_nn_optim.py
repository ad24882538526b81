"""v1sim.nn.optim: SGD against the update rule written out by hand, schedules, and resumable state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from v1sim import nn


def params(rng, shapes=((3, 2), (4,))):
    ps = [nn.Parameter(rng.standard_normal(s)) for s in shapes]
    return ps


def set_grads(ps, rng):
    grads = [rng.standard_normal(p.shape) for p in ps]
    for p, g in zip(ps, grads):
        p.grad = g.copy()
    return grads


@pytest.mark.parametrize(
    "momentum, weight_decay, nesterov",
    [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.0, True), (0.0, 0.01, False), (0.8, 0.05, True)],
)
def test_sgd_matches_hand_formula(momentum, weight_decay, nesterov):
    rng = np.random.default_rng(0)
    ps = params(rng)
    ps[1].lr_mult = 2.0  # e.g. Caffe's doubled bias learning rate
    lr = 0.1
    opt = nn.SGD(ps, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
    w = [p.data.copy() for p in ps]
    v = [None, None]
    for _ in range(3):
        grads = set_grads(ps, rng)
        opt.step()
        for i, (p, g) in enumerate(zip(ps, grads)):
            d = g + weight_decay * w[i]
            if momentum:
                v[i] = d.copy() if v[i] is None else momentum * v[i] + d
                d = d + momentum * v[i] if nesterov else v[i]
            w[i] = w[i] - lr * p.lr_mult * d
            np.testing.assert_allclose(p.data, w[i], rtol=1e-12, atol=1e-14)


def test_sgd_first_momentum_step_is_plain_sgd_and_cs231n_form_agrees_at_fixed_lr():
    rng = np.random.default_rng(1)
    (p,) = params(rng, ((5,),))
    w0, mu, lr = p.data.copy(), 0.9, 0.05
    opt = nn.SGD([p], lr=lr, momentum=mu)
    g1 = set_grads([p], rng)[0]
    opt.step()
    np.testing.assert_allclose(p.data, w0 - lr * g1)
    # CS231n: v = mu v - lr g; w += v   (identical while lr is constant)
    g2 = set_grads([p], rng)[0]
    opt.step()
    v = -lr * g1
    v = mu * v - lr * g2
    np.testing.assert_allclose(p.data, w0 - lr * g1 + v, rtol=1e-12)


def test_frozen_and_gradless_parameters_do_not_move():
    rng = np.random.default_rng(2)
    a, b, c, d = params(rng, ((3,), (3,), (3,), (3,)))
    b.requires_grad = False
    d.lr_mult = 0.0
    before = [p.data.copy() for p in (a, b, c, d)]
    set_grads([a, b, d], rng)  # c has no gradient
    opt = nn.SGD([a, b, c, d], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step()
    assert not np.allclose(a.data, before[0])
    for p, w in zip((b, c, d), before[1:]):
        np.testing.assert_array_equal(p.data, w)
    assert [k for k in opt.state_dict() if k.startswith("velocity")] == ["velocity.0"]


def test_sgd_state_round_trip_resumes_identically(tmp_path):
    rng = np.random.default_rng(3)

    def make():
        net = nn.Sequential(nn.Linear(4, 5, rng=0), nn.ReLU(), nn.Linear(5, 3, rng=1))
        return net, nn.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)

    x, y = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6)
    crit = nn.CrossEntropyLoss()

    def step(net, opt):
        crit(net(x), y)
        net.zero_grad()
        net.backward(crit.backward())
        opt.step()

    net_a, opt_a = make()
    for _ in range(3):
        step(net_a, opt_a)
    opt_a.lr = 0.05
    np.savez(
        tmp_path / "ckpt.npz",
        **{f"model/{k}": v for k, v in net_a.state_dict().items()},
        **{f"optim/{k}": v for k, v in opt_a.state_dict().items()},
    )
    net_b, opt_b = make()
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as ckpt:
        net_b.load_state_dict({k[6:]: ckpt[k] for k in ckpt.files if k.startswith("model/")})
        opt_b.load_state_dict({k[6:]: ckpt[k] for k in ckpt.files if k.startswith("optim/")})
    assert opt_b.lr == 0.05 and opt_b.nesterov is True
    for _ in range(2):
        step(net_a, opt_a)
        step(net_b, opt_b)
    for (k, a), (_, b) in zip(net_a.state_dict().items(), net_b.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_sgd_load_state_errors():
    rng = np.random.default_rng(4)
    ps = params(rng)
    opt = nn.SGD(ps, lr=0.1, momentum=0.9)
    set_grads(ps, rng)
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match=r"'velocity.0' has shape \(2, 3\), its parameter has shape \(3, 2\)"):
        opt.load_state_dict({**state, "velocity.0": np.zeros((2, 3))})
    with pytest.raises(KeyError, match="velocity.7"):
        opt.load_state_dict({**state, "velocity.7": np.zeros(3)})
    with pytest.raises(KeyError, match="missing key.*lr"):
        opt.load_state_dict({k: v for k, v in state.items() if k != "lr"})


def test_sgd_bad_arguments():
    ps = params(np.random.default_rng(5))
    with pytest.raises(ValueError, match="lr"):
        nn.SGD(ps, lr=0)
    with pytest.raises(ValueError, match="momentum"):
        nn.SGD(ps, lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        nn.SGD(ps, lr=0.1, weight_decay=-1)
    with pytest.raises(ValueError, match="nesterov"):
        nn.SGD(ps, lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="Parameters"):
        nn.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        nn.SGD([], lr=0.1)


def test_step_lr():
    opt = nn.SGD(params(np.random.default_rng(6)), lr=0.1)
    sched = nn.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        sched.step()
        lrs.append(opt.lr)
    assert lrs == pytest.approx([0.1 * 0.5 ** (e // 3) for e in range(1, 8)])
    state = sched.state_dict()
    opt2 = nn.SGD(params(np.random.default_rng(6)), lr=0.1)
    sched2 = nn.StepLR(opt2, step_size=1, gamma=0.9)
    sched2.load_state_dict({k: np.asarray(v) for k, v in state.items()})
    sched.step()
    sched2.step()
    assert opt2.lr == pytest.approx(opt.lr) and sched2.get_last_lr() == pytest.approx(0.1 * 0.5 ** (8 // 3))
    with pytest.raises(ValueError, match="step_size"):
        nn.StepLR(opt, step_size=0)


def reference_plateau(metrics, lr, factor, patience, threshold, cooldown, min_lr, mode="min"):
    """The rule, written out: relative threshold, patience counted in bad epochs, then cooldown."""
    best, bad, cool, lrs = (math.inf if mode == "min" else -math.inf), 0, 0, []
    for m in metrics:
        better = m < best * (1 - threshold) if mode == "min" else m > best * (1 + threshold)
        best, bad = (m, 0) if better else (best, bad + 1)
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            lr, cool, bad = max(lr * factor, min_lr), cooldown, 0
        lrs.append(lr)
    return lrs


@pytest.mark.parametrize("mode", ["min", "max"])
def test_reduce_lr_on_plateau(mode):
    loss = [1.0, 0.8, 0.7999, 0.81, 0.9, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5]
    metrics = loss if mode == "min" else [2 - m for m in loss]  # e.g. an accuracy rising and stalling
    opt = nn.SGD(params(np.random.default_rng(7)), lr=1.0)
    kw = dict(factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=0.2)
    sched = nn.ReduceLROnPlateau(opt, mode=mode, **kw)
    got = []
    for m in metrics:
        sched.step(m)
        got.append(opt.lr)
    assert got == pytest.approx(reference_plateau(metrics, 1.0, mode=mode, **kw))
    assert min(got) == 0.2  # reduced repeatedly, never below min_lr
    # 0.7999 is not better than 0.8 by 1%: the first reduction comes after 3 bad epochs
    assert got[:5] == [1.0, 1.0, 1.0, 1.0, 0.5]


def test_reduce_lr_on_plateau_state_and_errors():
    opt = nn.SGD(params(np.random.default_rng(8)), lr=1.0)
    sched = nn.ReduceLROnPlateau(opt, patience=1)
    for m in (1.0, 1.0):
        sched.step(m)
    state = {k: np.asarray(v) for k, v in sched.state_dict().items()}  # as from np.load
    other = nn.ReduceLROnPlateau(nn.SGD(params(np.random.default_rng(8)), lr=1.0), patience=5)
    other.load_state_dict(state)
    assert other.patience == 1 and other.best == 1.0 and other.num_bad_epochs == 1 and other.mode == "min"
    with pytest.raises(ValueError, match="metric must be finite"):
        sched.step(float("nan"))
    with pytest.raises(ValueError, match="factor"):
        nn.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        nn.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="patience"):
        nn.ReduceLROnPlateau(opt, patience=-1)


def test_reduce_lr_on_plateau_skips_reductions_within_eps():
    # PyTorch: new_lr = max(lr * factor, min_lr) is applied only if lr - new_lr > eps; the counters reset either way
    opt = nn.SGD(params(np.random.default_rng(9)), lr=1e-6)
    sched = nn.ReduceLROnPlateau(opt, factor=0.5, patience=0, min_lr=0.0, eps=1e-6)
    sched.step(1.0)
    sched.step(1.0)  # a plateau: 1e-6 -> 5e-7 is a change of 5e-7 <= eps, skipped
    assert opt.lr == 1e-6 and sched.num_bad_epochs == 0
    opt.lr = 1e-5
    sched.step(1.0)  # 1e-5 -> 5e-6 changes by 5e-6 > eps
    assert opt.lr == 5e-6
    # the default eps (1e-8) only stops changes at rounding level, e.g. once min_lr is reached
    opt = nn.SGD(params(np.random.default_rng(9)), lr=0.1 + 1e-9)
    sched = nn.ReduceLROnPlateau(opt, patience=0, min_lr=0.1)
    assert sched.eps == 1e-8
    sched.step(1.0)
    sched.step(1.0)
    assert opt.lr == 0.1 + 1e-9
    for bad in (-1e-8, float("nan"), float("inf"), "tiny"):
        with pytest.raises((ValueError, TypeError), match="eps"):
            nn.ReduceLROnPlateau(opt, eps=bad)


def test_reduce_lr_on_plateau_state_keeps_eps_and_loads_older_states():
    opt = nn.SGD(params(np.random.default_rng(10)), lr=1.0)
    sched = nn.ReduceLROnPlateau(opt, patience=1, eps=0.25)
    sched.step(2.0)
    state = sched.state_dict()
    assert state["eps"] == 0.25
    other = nn.ReduceLROnPlateau(nn.SGD(params(np.random.default_rng(10)), lr=1.0))
    other.load_state_dict({k: np.asarray(v) for k, v in state.items()})  # as from np.load
    assert other.eps == 0.25 and isinstance(other.eps, float) and other.best == 2.0
    older = {k: v for k, v in state.items() if k != "eps"}  # a checkpoint written before eps existed
    fresh = nn.ReduceLROnPlateau(nn.SGD(params(np.random.default_rng(10)), lr=1.0), eps=1e-3)
    fresh.load_state_dict(older)
    assert fresh.eps == 1e-3 and fresh.patience == 1
    with pytest.raises(KeyError, match="missing"):
        fresh.load_state_dict({k: v for k, v in state.items() if k != "best"})
