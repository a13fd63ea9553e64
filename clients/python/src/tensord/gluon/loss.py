"""``gluon.loss``: per-sample losses with MXNet Gluon's formulas (mean over all axes but
``batch_axis``; ``weight`` scales, ``sample_weight`` multiplies elementwise)."""

from .block import HybridBlock

__all__ = ["Loss", "L2Loss", "L1Loss", "SoftmaxCrossEntropyLoss", "SoftmaxCELoss",
           "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss"]


def _reshape_like(F, x, y):
    """``x`` with ``y``'s shape (both shapes are known, eagerly and when traced)."""
    if tuple(x.shape) == tuple(y.shape):
        return x
    return F.reshape(x, shape=tuple(y.shape))


def _apply_weighting(F, loss, weight=None, sample_weight=None):
    if sample_weight is not None:
        loss = F.broadcast_mul(loss, sample_weight)
    if weight is not None:
        loss = F._mul_scalar(loss, scalar=float(weight))
    return loss


class Loss(HybridBlock):
    """Base class: ``weight`` (a scalar or None) and ``batch_axis`` (default 0)."""

    def __init__(self, weight, batch_axis, **kwargs):
        super().__init__(**kwargs)
        self._weight = weight
        self._batch_axis = batch_axis

    def __repr__(self):
        return "%s(batch_axis=%s, w=%s)" % (type(self).__name__, self._batch_axis, self._weight)

    def _mean(self, F, loss):
        return F.mean(loss, axis=self._batch_axis, exclude=True)


class L2Loss(Loss):
    """``weight/2 · (label − pred)²`` averaged per sample (weight 1 by default)."""

    def __init__(self, weight=1.0, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.square(F.broadcast_sub(label, pred))
        loss = _apply_weighting(F, loss, self._weight / 2, sample_weight)
        return self._mean(F, loss)


class L1Loss(Loss):
    """``weight · |label − pred|`` averaged per sample."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        loss = F.abs(F.broadcast_sub(label, pred))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


class SoftmaxCrossEntropyLoss(Loss):
    """``−log softmax(pred)[label]`` (``sparse_label``) or ``−Σ label·log softmax(pred)``;
    ``from_logits=True`` takes ``pred`` as log-probabilities already."""

    def __init__(self, axis=-1, sparse_label=True, from_logits=False, weight=None, batch_axis=0,
                 **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._axis = axis
        self._sparse_label = sparse_label
        self._from_logits = from_logits

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        if self._sparse_label:
            loss = F.negative(F.pick(pred, label, axis=self._axis, keepdims=True))
        else:
            label = _reshape_like(F, label, pred)
            loss = F.negative(F.sum(F.broadcast_mul(pred, label), axis=self._axis, keepdims=True))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy; on logits (default) with the stable form
    ``max(x, 0) − x·z + log(1 + exp(−|x|))``, else on probabilities (``from_sigmoid=True``)."""

    def __init__(self, from_sigmoid=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        label = _reshape_like(F, label, pred)
        if not self._from_sigmoid:
            loss = F.broadcast_add(
                F.broadcast_sub(F.relu(pred), F.broadcast_mul(pred, label)),
                F.Activation(F.negative(F.abs(pred)), act_type="softrelu"))
        else:
            eps = 1e-12
            pos = F.broadcast_mul(F.log(F._plus_scalar(pred, scalar=eps)), label)
            neg = F.broadcast_mul(F.log(F._plus_scalar(F._rminus_scalar(pred, scalar=1.0), scalar=eps)),
                                  F._rminus_scalar(label, scalar=1.0))
            loss = F.negative(F.broadcast_add(pos, neg))
        loss = _apply_weighting(F, loss, self._weight, sample_weight)
        return self._mean(F, loss)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss
