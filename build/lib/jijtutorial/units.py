"""Units and constants used across the package (CODATA 2018).

Energies are in meV for couplings (J, D) and in eV for the tight-binding engine; lengths in Å;
moments in μB; temperatures in K.
"""

#: Boltzmann constant in eV/K.
K_B_EV = 8.617333262e-5
#: Boltzmann constant in meV/K.
K_B_MEV = K_B_EV * 1e3
#: meV per eV.
EV_TO_MEV = 1000.0

__all__ = ["EV_TO_MEV", "K_B_EV", "K_B_MEV"]
