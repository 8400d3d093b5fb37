"""Decisions the manual leaves open, written down once: every one is echoed in the docs.

* :data:`FILLS` — what stands in for a Query API whose reply table is missing (``{}``) or
  whose reply example belongs to another API;
* :data:`CHILDREN` — typed children the reference does not know, with the type values that
  select their rows in the parent's table;
* :data:`FK_TARGETS` — ``xxxUuid`` stems whose target the name does not tell;
* :func:`is_owned` — which resources account scoping applies to.

>>> is_owned("VmInstance", "5.1.8"), is_owned("Zone", "6.1.3")
(True, False)
>>> is_owned("VmNicSecurityGroupRef", "8.1.7.11")
False
"""

from __future__ import annotations

__all__ = ["CHILDREN", "EXAMPLE_ERRATA", "FILLS", "FILL_EXTRAS", "FK_TARGETS", "OWNED_SECTIONS",
           "is_owned"]

#: api → (kind, argument, why). kind: ``section`` = the ``#inventory`` table of that manual
#: section; ``api`` = the table of that Query API; ``parent`` = the fields of that resource;
#: ``fields`` = the listed (name, type) pairs.
FILLS: dict[str, tuple[str, object, str]] = {
    "QueryShareableVolumeVmInstanceRef": (
        "fields", [("volumeUuid", "String"), ("vmInstanceUuid", "String"), ("deviceId", "Integer"),
                   ("createDate", "Timestamp"), ("lastOpDate", "Timestamp")],
        "the reply is documented as {} and the reply example is QueryHost's; the fields are "
        "the five values of its curl example (two UUIDs, a device number, two dates)"),
    "QueryVCenterPrimaryStorage": (
        "parent", "PrimaryStorage",
        "the reply is {} and the example is QueryVCenterResourcePool's; a vCenter datastore is "
        "a primary storage, so it has the primary storage fields"),
    "QueryVCenterBackupStorage": (
        "parent", "BackupStorage",
        "the reply is {} and the example is QueryVCenterResourcePool's; a vCenter backup "
        "storage is a backup storage, so it has the backup storage fields"),
    "QuerySNSEmailPlatform": (
        "section", "10.1.2.6", "the reply is {}; CreateSNSEmailPlatform (10.1.2.6) returns it"),
    "QuerySNSEmailEndpoint": (
        "section", "10.1.2.13", "the reply is {}; CreateSNSEmailEndpoint (10.1.2.13) returns it"),
    "QuerySNSHttpEndpoint": (
        "section", "10.1.2.22",
        "the reply is {} and CreateSNSHttpEndpoint documents none; the common endpoint fields "
        "of UpdateSNSApplicationEndpoint (10.1.2.22), plus url from its curl example"),
    "QuerySNSApplicationEndpoint": (
        "section", "10.1.2.22", "the reply is {}; UpdateSNSApplicationEndpoint (10.1.2.22)"),
    "QuerySNSSmsEndpoint": (
        "section", "10.1.2.25", "the reply is {}; CreateSNSAliyunSmsEndpoint (10.1.2.25)"),
    "QuerySNSMicrosoftTeamsEndpoint": (
        "section", "10.1.2.34",
        "the reply is {} and the example is QuerySNSTopicSubscriber's; "
        "CreateSNSMicrosoftTeamsEndpoint (10.1.2.34) returns it"),
    "QueryArchiveTicket": (
        "api", "QueryTicket",
        "the reply is {} and the example is QueryTicketHistory's; an archived ticket is a "
        "ticket, with the ticket fields"),
}

#: Extra fields a fill needs that its source lacks: api → [(name, type, why)].
FILL_EXTRAS: dict[str, list[tuple[str, str, str]]] = {
    "QuerySNSHttpEndpoint": [("url", "String", "queried in the curl example (url=http://url)")],
    "QuerySNSEmailEndpoint": [("email", "String",
                               "queried in the curl example (email=test@cloud.io)")],
}

#: Typed children the reference does not declare: resource → (parent resource, row filter, why).
#: The filter values come from the manual's reply examples where it shows them; where it shows
#: none the value is ZStack's type name, an assumption the reason says.
CHILDREN: dict[str, tuple[str, dict[str, list[str]], str]] = {
    "VpcRouterVm": ("VirtualRouterVm", {"applianceVmType": ["vrouter"]},
                    "a VPC router is a virtual router VM; the manual's example shows no "
                    "appliance type: vrouter (ZStack's VPC router type) is assumed"),
    "BareMetal2Instance": ("VmInstance", {"type": ["baremetal2"]},
                           "reply example: type baremetal2; it has all VM instance fields"),
    "BareMetal2Gateway": ("Host", {"hypervisorType": ["baremetal2"]},
                          "a gateway node has all host fields; the manual shows no type "
                          "value: baremetal2 is assumed"),
    "VCenterCluster": ("Cluster", {"type": ["vmware"]}, "reply example: type vmware"),
    "VCenterPrimaryStorage": ("PrimaryStorage", {"type": ["VCenter"]},
                              "the manual shows no type value: VCenter is assumed"),
    "VCenterBackupStorage": ("BackupStorage", {"type": ["VCenter"]},
                             "the manual shows no type value: VCenter is assumed"),
    "ImageStoreBackupStorage": ("BackupStorage", {"type": ["ImageStoreBackupStorage"]},
                                "reply example: type ImageStoreBackupStorage"),
    "SharedBlockGroupPrimaryStorage": ("PrimaryStorage", {"type": ["SharedBlock"]},
                                       "reply example: type SharedBlock"),
    "SlbOffering": ("InstanceOffering", {"type": ["SLB"]}, "reply example: type SLB"),
    "VirtualRouterOffering": ("InstanceOffering", {"type": ["VirtualRouter"]},
                              "reply example: type VirtualRouter (the reference has no "
                              "discriminator for it)"),
    "AddressPool": ("IpRange", {"ipRangeType": ["AddressPool"]},
                    "reply example and the IpRangeType table: ipRangeType AddressPool"),
    "SNSEmailPlatform": ("SNSApplicationPlatform", {"type": ["Email"]},
                         "QuerySNSApplicationPlatform's example: type Email"),
    "SNSEmailEndpoint": ("SNSApplicationEndpoint", {"type": ["Email"]},
                         "reply examples of 10.1.2: type Email"),
    "SNSHttpEndpoint": ("SNSApplicationEndpoint", {"type": ["HTTP"]},
                        "the manual shows no type value: HTTP is assumed"),
    "SNSDingTalkEndpoint": ("SNSApplicationEndpoint", {"type": ["DingTalk"]},
                            "the manual shows no type value: DingTalk is assumed"),
    "SNSSmsEndpoint": ("SNSApplicationEndpoint", {"type": ["AliyunSms"]},
                       "CreateSNSAliyunSmsEndpoint's reply example: type AliyunSms"),
    "SNSMicrosoftTeamsEndpoint": ("SNSApplicationEndpoint", {"type": ["MicrosoftTeams"]},
                                  "the manual shows no type value: MicrosoftTeams is assumed"),
    "AliyunSmsSNSTextTemplate": ("SNSTextTemplate", {"applicationPlatformType": ["AliyunSms"]},
                                 "a text template for the AliyunSms platform (its "
                                 "applicationPlatformType)"),
}

#: ``(resource or "*", stem)`` → target resource, where the ``…Uuid`` name does not say it;
#: ``None``: the key points to resources of any type (or to one outside the catalogue).
FK_TARGETS: dict[tuple[str, str], str | None] = {
    ("*", "resource"): None,
    ("*", "targetResource"): None,
    ("*", "dataCenter"): None,
    ("*", "parent"): None,
    ("*", "action"): None,
    ("*", "networkService"): None,
    ("AutoScalingGroupInstance", "instance"): "VmInstance",
    ("*", "vRouter"): "VirtualRouterVm",
    ("*", "vpcHaRouter"): "VpcHaGroup",
    ("*", "VpcHaRouter"): "VpcHaGroup",
    ("*", "mdevSpec"): "MdevDeviceSpec",
    ("*", "pciSpec"): "PciDeviceSpec",
    ("*", "mirrorNetwork"): "L3Network",
    ("*", "managementNetwork"): "L3Network",
    ("*", "publicNetwork"): "L3Network",
    ("*", "project"): "IAM2Project",
    ("*", "organization"): "IAM2Organization",
    ("*", "sharedBlockGroup"): "SharedBlockGroupPrimaryStorage",
    ("*", "scalingGroupRule"): "AutoScalingRule",
    ("*", "iso"): "Image",
    ("TemplateConfig", "template"): "GlobalConfigTemplate",
}

#: Manual sections whose resources accounts own (section-number prefixes).
OWNED_SECTIONS = ("5.", "7.3.", "7.4.", "7.5.", "7.6.", "7.7.", "7.8.", "8.1.", "10.",
                  "11.3.", "13.1.", "15.1.", "18.2.8")
#: Never owned, whatever the section: admin objects, links and records.
_NOT_OWNED = {"NetworkServiceProvider", "NetworkServiceL3NetworkRef", "VmNicSecurityGroupRef",
              "UsedIp", "BaremetalChassis", "BaremetalPxeServer", "BaremetalBonding",
              "PreconfigurationTemplate", "DatabaseBackup"}
_RECORD_SUFFIXES = ("Ref", "Record", "History", "Activity")


def is_owned(resource: str, section: str) -> bool:
    """Account scoping applies to tenant resources: see :data:`OWNED_SECTIONS`.

    Links (``…Ref``), records and logs (``…Record``, ``…History``, ``…Activity``) and the
    admin objects in :data:`_NOT_OWNED` are not owned; a typed child follows its parent.
    """
    if resource in _NOT_OWNED or resource.endswith(_RECORD_SUFFIXES):
        return False
    return any(section == prefix or section.startswith(prefix) for prefix in OWNED_SECTIONS)

#: Example conditions the manual prints wrong: (api, condition) → why it cannot validate.
EXAMPLE_ERRATA: dict[tuple[str, str], str] = {
    ("QueryVmInstance", "vmNics.eip.ip=192.168.0.100"):
        "EipInventory has no field ip (its addresses are vipIp and guestIp)",
    ("QueryShareableVolumeVmInstanceRef", "0c917562d5954544b37bf5e0ed0735a6"):
        "values without field names (the curl example lists bare values)",
    ("QueryShareableVolumeVmInstanceRef", "cddc1c17e94a43b5b50e1df53e076d11"):
        "values without field names (the curl example lists bare values)",
    ("QueryShareableVolumeVmInstanceRef", "2"):
        "values without field names (the curl example lists bare values)",
    ("QueryShareableVolumeVmInstanceRef", "Jan"):
        "values without field names (the curl example lists bare values)",
    ("QueryLocalStorageResourceRef", "uuid=18b4bc6daf0542b09b6756ddce3f87cd"):
        "the inventory has no uuid: its key is resourceUuid",
    ("QueryCephPrimaryStoragePool", "name=highPerformance"):
        "the pool's name field is poolName",
    ("QueryMulticastRouter", "name=multicastRouter"):
        "the multicast router inventory has no name field",
    ("QueryPortMirrorSession", "direction=Egress"):
        "the session's direction is its type field (Ingress/Egress/Bidirection)",
    ("QueryPortMirrorNetworkUsedIp", ""): "an empty condition (q= with nothing after it)",
    ("QueryAliyunSmsSNSTextTemplate", "smsTemplateCode=SMS_123456789"):
        "the inventory has alarmTemplateCode and eventTemplateCode, no smsTemplateCode",
    ("QueryEventFromResourceStack", "name=test"):
        "the event inventory has no name field (resourceName names the resource)",
    ("QueryAccountResourceRef", "acountUuid=36f13d04700e489ea4ef8887fe233136"):
        "misspelled: accountUuid",
    ("QuerySharedResource", "accountUuid=8d10cb2b1713476a9bea6dc858440f43"):
        "a shared resource has ownerAccountUuid and receiverAccountUuid, no accountUuid",
    ("QueryAccountPriceTableRef", "uuid=491c8b047d073a42ab44213f726fddbf"):
        "the reference has no uuid (accountUuid and tableUuid identify it)",
    ("QueryIAM2LdapBinding", "accountUuid=bb452952218931cdb9c058085748dc8a"):
        "the binding's owner is resourceUuid; it has no accountUuid",
    ("QueryBaremetalInstance", "uuid =93c50425e0ed3b2884027db70620db38"):
        "a space before '=' (the manual forbids spaces around operators; compat mode "
        "accepts it)",
    ("QueryGCJob", "state=Enabled"): "a GC job has a status, no state",
}
