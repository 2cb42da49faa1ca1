"""jijtutorial: learn magnetic exchange couplings J_ij of impurity pairs in Bi2Te3."""

__version__ = "0.1.0"
