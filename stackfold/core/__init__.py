"""The ground floor models, stackers and features all stand on: the estimator contract and its
declared parameters, the registry lookup, feature blocks and row taking, cross-validation with
its named result, the stack matrix, inner splits and the TensorFlow runtime.

Nothing here imports :mod:`stackfold.models`, :mod:`stackfold.ensembles` or the feature builder.
"""
