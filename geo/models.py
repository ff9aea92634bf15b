"""Deprivation reference tables: national data shared by every game, loaded with
``taptrail import imd`` / ``taptrail import postcodes``."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Float, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base


class LsoaArea(Base):
    """A small area of an Indices of Deprivation file (England LSOA, Welsh LSOA, Scottish
    data zone or Northern Irish SOA). Rank and decile are within ``nation``."""

    __tablename__ = "lsoa_areas"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lad_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    lad_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    nation: Mapped[str] = mapped_column(String(16))
    edition: Mapped[str] = mapped_column(String(8))
    imd_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    imd_rank: Mapped[int] = mapped_column(Integer)
    imd_decile: Mapped[int] = mapped_column(SmallInteger)
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_lsoa_areas_lad", "lad_code"),
        CheckConstraint("imd_decile BETWEEN 1 AND 10", name="decile_range"),
    )


class PostcodeLookup(Base):
    """A postcode (ONS ``pcds`` form) and its LSOA. Terminated postcodes are kept."""

    __tablename__ = "postcode_lookup"

    pcds: Mapped[str] = mapped_column(String(8), primary_key=True)
    lsoa_code: Mapped[str] = mapped_column(String(12))
    terminated: Mapped[bool] = mapped_column(Boolean, default=False)
