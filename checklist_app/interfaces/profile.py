"""The site's interface settings and the code systems the outbound messages use, declared once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InterfaceSettings:
    """What the hospital's interface-engine team agrees with the room. Defaults are placeholders.

    `mrn_authority` is HL7 CX-4 (assigning authority namespace); `mrn_system` is the same
    authority as a FHIR Identifier.system URI. `local_system_base` prefixes this program's own
    code systems and identifier systems (replace it with a URL or OID the hospital controls).
    `addendum_trigger` is T06 (HL7 v2.5 ch. 9 "document addendum notification and content");
    set "T02" for a receiver that only takes T02.
    """

    sending_application: str = "CHECKLIST_APP"
    sending_facility: str = "PROCEDURE_ROOM"
    receiving_application: str = "EHR"
    receiving_facility: str = "HOSPITAL"
    processing_id: str = "P"
    mrn_authority: str = "HOSP"
    mrn_system: str = "urn:oid:2.16.840.1.113883.19.5"
    local_system_base: str = "https://checklist-app.invalid/fhir"
    addendum_trigger: str = "T06"

    def local(self, name: str) -> str:
        """A local code or identifier system URI: `<base>/CodeSystem/<name>` style."""
        return f"{self.local_system_base.rstrip('/')}/{name}"


# -- external code systems (FHIR R4 canonical URIs) ----------------------------------------------
CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
UCUM = "http://unitsofmeasure.org"
GS1_DI = "http://hl7.org/fhir/NamingSystem/gs1-di"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"

# LOINC 11504-8 "Surgical operation note": the operative report (DocumentReference.type, MDM OBX-3).
OPERATIVE_NOTE = ("11504-8", "Surgical operation note")

# DICOM PS3.16 radiation dose concepts (TID 10001/10011 "Dose (RP) Total" etc.), as recorded units.
DOSE_CODES = {
    "fluoro_time_min": (DICOM, "113730", "Total Fluoro Time", "min", "min"),
    "air_kerma_mgy": (DICOM, "113725", "Dose (RP) Total", "mGy", "mGy"),
    "kap_gycm2": (DICOM, "113722", "Dose Area Product Total", "Gy.cm2", "Gy·cm²"),
    "ctdivol_mgy": (DICOM, "113830", "Mean CTDIvol", "mGy", "mGy"),
    "dlp_mgycm": (DICOM, "113813", "CT Dose Length Product Total", "mGy.cm", "mGy·cm"),
}
# Concepts with no authoritative code found: this program's local code system "measurement".
LOCAL_MEASUREMENTS = {
    "cement-volume": ("Bone cement volume injected", "mL", "mL"),
    "balloon-pressure": ("Balloon inflation pressure, final", "[psi]", "psi"),
    "balloon-volume": ("Balloon inflation volume, final", "mL", "mL"),
    "fluoro-runs": ("Number of fluoroscopy runs", "{runs}", "runs"),
}
# Vertebral levels: no per-vertebra SNOMED CT concept was verified from an authoritative source,
# so body sites use the local code system "vertebral-level" (codes C1..S5, as the program writes them).
VERTEBRAL_LEVEL = "vertebral-level"

# ASTM E1762 signature types and FHIR participant types for each signer role.
SIGNER_ROLES = {
    "operator": ("1.2.840.10065.1.12.1.1", "Author's Signature", "author", "Author"),
    "nurse": ("1.2.840.10065.1.12.1.3", "Co-participant's Signature", "performer", "Performer"),
    "addendum": ("1.2.840.10065.1.12.1.1", "Author's Signature", "author", "Author"),
}
# HL7 table 0001 administrative sex, and FHIR AdministrativeGender.
HL7_SEX = {"female": "F", "male": "M", "other": "O", "unknown": "U"}
FHIR_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
