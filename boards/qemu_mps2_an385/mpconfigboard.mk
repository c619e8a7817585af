# MicroPython's ports/qemu firmware for QEMU's mps2-an385 machine (ARM MPS2
# board, Cortex-M3), with this project frozen in (manifest.py here).
# Built by tools/qemu.py: make -C <micropython>/ports/qemu BOARD=QEMU_MPS2_AN385
# BOARD_DIR=<this folder> (ports/qemu takes a board folder from anywhere).
QEMU_ARCH = arm
QEMU_MACHINE = mps2-an385

CFLAGS += -mthumb -mcpu=cortex-m3 -mfloat-abi=soft
CFLAGS += -DQEMU_SOC_MPS2
CFLAGS += -DMICROPY_HW_MCU_NAME='"Cortex-M3"'

LDSCRIPT = mcu/arm/mps2.ld
SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o

# Frozen viper code is compiled for the CPU's architecture.
MPY_CROSS_FLAGS += -march=armv7m
FROZEN_MANIFEST ?= $(BOARD_DIR)/manifest.py
