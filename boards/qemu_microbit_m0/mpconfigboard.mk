# MicroPython's ports/qemu firmware for QEMU's microbit machine (nRF51,
# Cortex-M0, ARMv6-M like the RP2040), with viper enabled and this project
# frozen in. The stock MICROBIT board has no native emitter and compiles
# frozen code for armv7m; here the Thumb-1 emitter is on and frozen code is
# armv6m, so the viper hot paths run as the RP2040 would run them
# (mcu_emulation.md). Built by tools/qemu.py.
QEMU_ARCH = arm
QEMU_MACHINE = microbit
# More flash and RAM than a real micro:bit, so the heap holds a link.
QEMU_ARGS += -global nrf51-soc.flash-size=1048576 -global nrf51-soc.sram-size=262144

CFLAGS += -mthumb -mcpu=cortex-m0 -mfloat-abi=soft
CFLAGS += -DQEMU_SOC_NRF51
CFLAGS += -DMICROPY_HW_MCU_NAME='"nRF51 (Cortex-M0)"'
CFLAGS += -DMICROPY_EMIT_THUMB=1 -DMICROPY_EMIT_THUMB_ARMV7M=0 -DMICROPY_EMIT_INLINE_THUMB=1

LDSCRIPT = mcu/arm/nrf51.ld
SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb1.o

MPY_CROSS_FLAGS += -march=armv6m
FROZEN_MANIFEST ?= $(BOARD_DIR)/manifest.py
